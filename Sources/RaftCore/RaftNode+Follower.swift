/// The follower's side: accepting entries (Raft paper §5.3) and installing checkpoints
/// (notification mode).
extension RaftNode {
  mutating func receiveAppend(_ request: AppendRequest, from sender: PeerID) {
    if request.previous.index < log.committed {
      // Everything up to the commit index is settled; say so and let the leader move on.
      send(to: sender, .appendResponse(AppendResponse(index: log.committed)))
      return
    }
    guard let result = log.appendAfter(request.previous, request.entries) else {
      let hint = log.lastPosition(
        atOrBefore: request.previous.index, withTermAtMost: request.previous.term)
      let rejection = AppendResponse(index: request.previous.index, rejected: true, hint: hint)
      send(to: sender, .appendResponse(rejection))
      return
    }
    if let firstWritten = result.firstWritten {
      membershipLog.truncate(from: firstWritten)
      membershipLog.append(request.entries.filter { $0.index >= firstWritten })
    }
    log.commit(to: min(request.commit, result.lastMatching))
    send(to: sender, .appendResponse(AppendResponse(index: result.lastMatching)))
  }

  mutating func receiveSnapshotNotice(_ request: SnapshotNoticeRequest, from sender: PeerID) {
    if log.committed >= request.leaderSnapshot.index {
      // The leader's view of this peer is stale: the log already reaches its compaction point.
      let position = TermIndex(term: log.term(at: log.committed)!, index: log.committed)
      send(to: sender, .snapshotStatus(.installed(position)))
      return
    }
    if pendingNotice == nil {
      noticeToReport = SnapshotNotice(leader: sender, leaderSnapshot: request.leaderSnapshot)
    }
    pendingNotice = (sender, request)
    send(to: sender, .snapshotStatus(.inProgress))
  }

  mutating func finishSnapshotInstall(_ installed: TermIndex) -> Bool {
    // A peer that campaigned meanwhile keeps its log: the leader that asked is gone.
    guard let notice = pendingNotice, role == .follower else {
      pendingNotice = nil
      return false
    }
    pendingNotice = nil
    guard installed.index >= notice.request.leaderSnapshot.index else {
      send(to: leader ?? notice.leader, .snapshotStatus(.failed))
      return false
    }
    precondition(installed.index >= log.applied, "checkpoint \(installed) is older than applied")
    if installed.index <= log.committed || log.matches(installed) {
      log.fastForward(to: installed)
    } else {
      let metadata = SnapshotMetadata(
        last: installed, membership: notice.request.membership(at: installed.index))
      log.restore(metadata)
      membershipLog.reset(to: metadata)
    }
    send(to: leader ?? notice.leader, .snapshotStatus(.installed(installed)))
    return true
  }
}
