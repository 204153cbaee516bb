import RaftCore

/// The runtime's log behind the Ready handler's seam: its sync blocks the loop thread until
/// durable (inputs wait in the inbox meanwhile, and the next Ready's sync covers them all).
struct BlockingReadyLog: ReadyLog {
  let base: any RaftLogStore

  func installSnapshot(_ metadata: SnapshotMetadata) throws { try base.installSnapshot(metadata) }
  func append(_ entries: [LogEntry]) throws { try base.append(entries) }
  func setHardState(_ state: HardState) throws { try base.setHardState(state) }

  func sync() throws -> ReadyLogSync {
    try base.sync()
    return .durable
  }
}

/// The runtime's transport behind the Ready handler's seam.
struct TransportReadySeam: ReadyTransport {
  let base: any RaftTransport

  func send(_ messages: [RaftMessage]) { base.send(messages) }
  func setAddress(_ address: String, of peer: PeerID) { base.setAddress(address, of: peer) }
}

/// The runtime's apply side behind the Ready handler's seam: the apply thread, and the
/// requests waiting for their entries or reads.
final class ApplyHandOff: ReadyHandOff {
  let applier: ApplyLoop
  let pending: PendingRequests
  /// Receives the outcome of a checkpoint install as an input; set once, before the loop
  /// thread starts (weak: the loop owns this hand-off through its handler).
  weak var loop: RaftLoop?

  init(applier: ApplyLoop, pending: PendingRequests) {
    self.applier = applier
    self.pending = pending
  }

  func roleChanged(to softState: SoftState, from previous: SoftState?, term: UInt64) {
    if previous?.role == .leader && softState.role != .leader {
      // The core drops a deposed leader's pending reads silently; answer them now with the
      // new leader rather than let them wait for their timeout.
      pending.failReads(.notLeader(leader: softState.leader))
    }
    applier.leaderChanged(to: softState.leader, term: term, isLocalLeader: softState.role == .leader)
  }

  func logRestarted(at position: TermIndex) { applier.snapshotInstalled(at: position) }

  func apply(_ entries: [LogEntry]) { applier.enqueue(entries) }

  func readsConfirmed(_ states: [ReadState]) {
    for state in states { pending.readIndexKnown(context: state.context, index: state.index) }
    applier.readIndexesKnown()
  }

  func installSnapshot(_ notice: SnapshotNotice) {
    let firstLogIndex = TermIndex(term: notice.leaderSnapshot.term, index: notice.leaderFirstIndex)
    applier.installSnapshot(leader: notice.leader, firstLogIndex: firstLogIndex) { [weak loop = self.loop] installed in
      loop?.enqueue(.snapshotInstalled(installed))
    }
  }

  func persistFailed(_ cause: Error) {
    pending.failAll(.stopped)
    applier.fail(cause)
  }
}
