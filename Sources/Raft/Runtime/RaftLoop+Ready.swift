import Foundation
import RaftCore

extension RaftLoop {
  /// Starts the next Ready when none is in flight: persistence goes to its own queue and the
  /// rest waits for it (the durability contract in RaftCore's documentation).
  func pumpReady() {
    guard readyInFlight == nil, failure == nil, node.hasReady else { return }
    let ready = node.ready()
    readyInFlight = ready
    noteSoftState(ready.softState)
    learnAddresses(ready.entries)
    guard ready.snapshot != nil || !ready.entries.isEmpty || ready.hardState != nil else {
      finishReady(persistError: nil)
      return
    }
    let log = self.log
    let statistics = self.statistics
    persistQueue.async { [self] in
      do {
        if let snapshot = ready.snapshot { try log.installSnapshot(snapshot) }
        if !ready.entries.isEmpty { try log.append(ready.entries) }
        if let hardState = ready.hardState { try log.setHardState(hardState) }
        if ready.mustSync {
          try log.sync()
          statistics.recordSync(entries: ready.entries.count)
        }
        enqueue(.persisted(nil))
      } catch {
        enqueue(.persisted(error))
      }
    }
  }

  /// The Ready is durable: send its messages, hand its committed entries and reads to the apply
  /// thread, start a snapshot install if asked, and let the core advance.
  func finishReady(persistError: Error?) {
    guard let ready = readyInFlight else { preconditionFailure("no Ready in flight") }
    if let persistError {
      // Losing the log is fatal: answering anything now could break Raft's promises.
      failure = persistError
      logger.critical("stopping Raft: the log could not be written: \(persistError)")
      pending.failAll(.stopped)
      applier.fail(persistError)
      return
    }
    if !ready.messages.isEmpty { transport.send(ready.messages) }
    if let snapshot = ready.snapshot { applier.snapshotInstalled(at: snapshot.last) }
    if !ready.committedEntries.isEmpty { applier.enqueue(ready.committedEntries) }
    for state in ready.readStates { pending.readIndexKnown(context: state.context, index: state.index) }
    if !ready.readStates.isEmpty { applier.readIndexesKnown() }
    if let notice = ready.snapshotNotice { startSnapshotInstall(notice) }
    node.advance()
    readyInFlight = nil
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
