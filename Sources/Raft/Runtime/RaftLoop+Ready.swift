import Foundation
import RaftCore

extension RaftLoop {
  /// Runs the next Ready when none is in flight: persist it on this thread, then act on it (the
  /// durability contract in RaftCore's documentation).
  ///
  /// Inputs that arrive during the fsync wait in the inbox and are all stepped before the next
  /// Ready, which then carries everything that came meanwhile: one fsync covers them all (group
  /// commit). A leader's appends leave before its own fsync, so followers persist in parallel.
  func pumpReady() {
    guard case .idle = readyState, node.hasReady else { return }
    var ready = node.ready()
    noteSoftState(ready.softState)
    learnAddresses(ready.entries)
    if ready.messagesMayPrecedePersistence && !ready.messages.isEmpty {
      transport.send(ready.messages)
      ready.messages = []
    }
    readyState = .inFlight(ready)
    finishReady(persistError: persist(ready, from: .snapshot))
  }

  /// Persists `ready` from `first` on (the earlier steps are done); nil when it is durable, or a
  /// ``PersistFailure`` naming the step that failed. Syncs only when the Ready must be durable (a
  /// new commit index alone stays in the log's memory until its next sync).
  func persist(_ ready: Ready, from first: PersistStep) -> PersistFailure? {
    var step = first
    do {
      if step == .snapshot, let snapshot = ready.snapshot { try log.installSnapshot(snapshot) }
      step = max(step, .entries)
      if step == .entries, !ready.entries.isEmpty { try log.append(ready.entries) }
      step = max(step, .hardState)
      if step == .hardState, let hardState = ready.hardState { try log.setHardState(hardState) }
      step = .sync
      if ready.mustSync {
        try log.sync()
        statistics.recordSync(entries: ready.entries.count)
      }
      return nil
    } catch {
      return PersistFailure(step: step, underlying: error)
    }
  }

  /// The Ready is durable: send its messages, hand its committed entries and reads to the apply
  /// thread, start a snapshot install if asked, and let the core advance. A full disk keeps the
  /// Ready for a retry (``stallPersist(_:_:existing:)``); any other failure stops Raft.
  func finishReady(persistError: Error?) {
    let ready: Ready
    let stall: PersistStall?
    switch readyState {
    case .inFlight(let inFlight): (ready, stall) = (inFlight, nil)
    case .stalled(let inFlight, let existing): (ready, stall) = (inFlight, existing)
    case .idle, .failed: preconditionFailure("no Ready in flight")
    }
    if let persistError {
      if let full = persistError as? PersistFailure, full.isOutOfSpace {
        stallPersist(ready, full, existing: stall)
        return
      }
      // Losing the log is fatal: answering anything now could break Raft's promises.
      let cause = (persistError as? PersistFailure)?.underlying ?? persistError
      readyState = .failed(cause, stall: stall)
      logger.critical("stopping Raft: the log could not be written: \(cause)")
      pending.failAll(.stopped)
      applier.fail(cause)
      return
    }
    if let stall {
      logger.notice("the Raft log is writable again after \(stall.failedAttempts) failed attempts; resuming")
    }
    if !ready.messages.isEmpty { transport.send(ready.messages) }
    if let snapshot = ready.snapshot { applier.snapshotInstalled(at: snapshot.last) }
    if !ready.committedEntries.isEmpty { applier.enqueue(ready.committedEntries) }
    for state in ready.readStates { pending.readIndexKnown(context: state.context, index: state.index) }
    if !ready.readStates.isEmpty { applier.readIndexesKnown() }
    if let notice = ready.snapshotNotice { startSnapshotInstall(notice) }
    node.advance()
    readyState = .idle
  }

  private func noteSoftState(_ softState: SoftState?) {
    guard let softState, softState != lastSoftState else { return }
    if lastSoftState?.role == .leader && softState.role != .leader {
      // The core drops a deposed leader's pending reads silently; answer them now with the
      // new leader rather than let them wait for their timeout.
      pending.failReads(.notLeader(leader: softState.leader))
    }
    lastSoftState = softState
    applier.leaderChanged(to: softState.leader, term: node.term, isLocalLeader: softState.role == .leader)
    logger.info("role \(softState.role.rawValue), leader \(softState.leader.map(\.description) ?? "none"), term \(node.term)")
  }

  /// A membership change takes effect when appended, so the transport must learn a new peer's
  /// address (carried in the change's context) as soon as the entry is in a Ready.
  private func learnAddresses(_ entries: [LogEntry]) {
    for entry in entries where entry.kind == .membershipChange {
      guard let change = try? MembershipChange(decoding: entry.data), !change.context.isEmpty else { continue }
      if let address = String(validating: change.context, as: UTF8.self) {
        transport.setAddress(address, of: change.peer)
      }
    }
  }

  private func startSnapshotInstall(_ notice: SnapshotNotice) {
    guard !installingSnapshot else { return }
    installingSnapshot = true
    let firstLogIndex = TermIndex(term: notice.leaderSnapshot.term, index: notice.leaderFirstIndex)
    logger.info("installing a checkpoint from leader \(notice.leader): its log starts at \(notice.leaderFirstIndex)")
    applier.installSnapshot(leader: notice.leader, firstLogIndex: firstLogIndex) { [self] installed in
      enqueue(.snapshotInstalled(installed))
    }
  }
}
