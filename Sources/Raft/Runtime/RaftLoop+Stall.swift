import RaftCore

extension RaftLoop {
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
    stall.ticksUntilRetry = stall.backoff.nextDelayTicks(tickMilliseconds: configuration.tickMilliseconds)
    readyState = .stalled(ready, stall)
  }

  /// Counts a tick of a stall's backoff; when it is over, persists the Ready in flight again
  /// from the step that failed.
  func retryStalledPersistIfDue() {
    guard case .stalled(let ready, var stall) = readyState, let ticks = stall.ticksUntilRetry else { return }
    stall.ticksUntilRetry = ticks > 1 ? ticks - 1 : nil
    readyState = .stalled(ready, stall)
    if stall.ticksUntilRetry == nil { finishReady(persistError: persist(ready, from: stall.resumeStep)) }
  }

  /// While stalled, refuses new proposals, membership changes and reads at once as not led here:
  /// none could complete before the disk has space again, and a refused request is not in the
  /// log, so the client may safely retry it on another replica. Requests already waiting keep
  /// waiting (their entries may still commit elsewhere).
  func refusedWhileStalled(_ input: RaftInput) -> Bool {
    switch readyState {
    case .stalled, .failed(_, stall: .some): break
    case .idle, .inFlight, .failed(_, stall: nil): return false
    }
    let refusal = RaftServerError.notLeader(leader: node.leader == node.id ? nil : node.leader)
    switch input {
    case .propose(_, let waiter), .membershipChange(_, let waiter), .read(_, let waiter):
      waiter(.failure(refusal))
      return true
    default:
      return false
    }
  }
}
