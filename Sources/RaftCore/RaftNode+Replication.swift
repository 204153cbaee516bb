/// Sending the log to followers under flow control (etcd-raft's probe / replicate / snapshot).
extension RaftNode {
  /// The members the leader sends to, in ascending order.
  var replicationTargets: [PeerID] {
    membership.members.filter { $0 != id && progress[$0] != nil }
  }

  /// Sends every follower what it lacks, or at least a commit index it has not been sent.
  mutating func broadcastAppend() {
    broadcastPending = false
    for peer in replicationTargets {
      sendAppends(to: peer, allowEmpty: progress[peer]!.sentCommit < log.committed)
    }
  }

  /// Sends as many AppendEntries to `peer` as flow control allows: one probe, or a stream up to
  /// the inflight window.
  mutating func sendAppends(to peer: PeerID, allowEmpty: Bool) {
    var allowEmpty = allowEmpty
    while sendAppend(to: peer, allowEmpty: allowEmpty) {
      allowEmpty = false
      guard progress[peer]?.state == .replicate else { return }
    }
  }

  /// Sends one AppendEntries from `next`, or a snapshot notice when `next` is compacted away.
  /// Returns whether an AppendEntries was sent.
  private mutating func sendAppend(to peer: PeerID, allowEmpty: Bool) -> Bool {
    guard var member = progress[peer], !member.isPaused else { return false }
    let previousIndex = member.next - 1
    guard let previousTerm = log.term(at: previousIndex),
      let entries = log.entries(from: member.next, payloadBytesMax: configuration.messageBytesMax)
    else {
      sendSnapshotNotice(to: peer)
      return false
    }
    guard !entries.isEmpty || allowEmpty else { return false }
    let payloadBytes = entries.reduce(0) { $0 + $1.payloadBytes }
    member.sent(lastIndex: entries.last?.index, payloadBytes: payloadBytes)
    member.sentCommit = max(member.sentCommit, log.committed)
    progress[peer] = member
    let previous = TermIndex(term: previousTerm, index: previousIndex)
    send(to: peer, .append(AppendRequest(previous: previous, entries: entries, commit: log.committed)))
    return true
  }

  /// Tells `peer` to install a checkpoint at or after the leader's compaction point. The
  /// membership history rides along for diagnostics; the checkpoint installed carries its own.
  private mutating func sendSnapshotNotice(to peer: PeerID) {
    let snapshot = log.snapshot
    let compactionIndex = snapshot.last.index
    let history =
      [MembershipRecord(index: compactionIndex, membership: snapshot.membership)]
      + membershipLog.records.filter { $0.index > compactionIndex }
    progress[peer]!.becomeSnapshot(leaderSnapshot: compactionIndex)
    send(
      to: peer,
      .snapshotNotice(
        SnapshotNoticeRequest(leaderSnapshot: snapshot.last, membershipHistory: history)))
  }

  /// Heartbeats carry the commit index (capped at what each follower holds) and the newest read
  /// round, so that their answers confirm pending reads.
  mutating func broadcastHeartbeat() {
    for peer in replicationTargets {
      let commit = min(progress[peer]!.match, log.committed)
      progress[peer]!.sentCommit = max(progress[peer]!.sentCommit, commit)
      send(to: peer, .heartbeat(commit: commit, readRound: reads.latestRound))
    }
  }
}
