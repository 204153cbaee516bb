import RaftCore

extension ReadyHandler {
  /// The log's disk is full: keep the Ready in flight and persist it again after a backoff.
  ///
  /// Until a retry succeeds nothing more of this Ready takes effect: its messages that wait for
  /// persistence (votes, append acknowledgements) stay unsent, its committed entries unapplied,
  /// and the core is not advanced, so no later Ready (no heartbeat either) exists. A leader's
  /// appends may have left already (`messagesMayPrecedePersistence`): they promise nothing about
  /// its own log. The core still steps what arrives and ticks: a leader that cannot reach a
  /// quorum steps down (check-quorum), the others elect a leader, and this replica learns the new
  /// term from its messages. Logged once per stall.
  func stallPersist(_ ready: Ready, _ failure: PersistFailure, existing: PersistStall?) {
    statistics.recordPersistFailure()
    var stall: PersistStall
    if let existing {
      stall = existing
      stall.failedAttempts += 1
      logger.debug("persisting to the Raft log failed again (attempt \(stall.failedAttempts)): \(failure)")
    } else {
      let backoff = PersistRetryBackoff()
      stall = PersistStall(resumeStep: failure.step, backoff: backoff)
      logger.error(
        """
        Raft log directory \(PersistStall.directory(of: failure)): \(PersistStall.reason(of: failure)); \
        this replica persists and sends nothing until space returns, retrying every \
        \(backoff.initialMilliseconds) ms up to \(backoff.maximumMilliseconds) ms (\(failure))
        """)
    }
    stall.resumeStep = failure.step
    stall.ticksUntilRetry = stall.backoff.nextDelayTicks(tickMilliseconds: tickMilliseconds)
    state = .stalled(ready, stall)
  }

  /// Counts a tick of a stall's backoff; when it is over, persists the Ready in flight again
  /// from the step that failed.
  func retryStalledPersistIfDue() {
    guard case .stalled(let ready, var stall) = state, let ticks = stall.ticksUntilRetry else { return }
    stall.ticksUntilRetry = ticks > 1 ? ticks - 1 : nil
    guard stall.ticksUntilRetry == nil else {
      state = .stalled(ready, stall)
      return
    }
    state = .inFlight(ready, recovering: stall)
    persist(ready, from: stall.resumeStep)
  }
}
