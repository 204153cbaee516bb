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
      retractAcknowledgements(from: firstWritten)
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

  mutating func finishSnapshotInstall(_ checkpoint: SnapshotMetadata) -> Bool {
    let installed = checkpoint.last
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
      // The log already holds the checkpoint's index, so it knows the membership there too.
      let known = membershipLog.membership(at: installed.index)
      precondition(
        checkpoint.membership == known,
        "checkpoint at \(installed) has \(checkpoint.membership); the log has \(known)")
      log.fastForward(to: installed)
    } else {
      // Everything after the commit index is replaced, acknowledged or not.
      retractAcknowledgements(from: log.committed + 1)
      log.restore(checkpoint)
      membershipLog.reset(to: checkpoint)
    }
    send(to: leader ?? notice.leader, .snapshotStatus(.installed(installed)))
    return true
  }

  /// The log from `index` on was replaced before the Ready that would persist it: a queued
  /// acknowledgement reaching into it would promise entries that never reach the disk (the
  /// leader that counted it could commit an entry held by too few peers), so it is withdrawn.
  /// That is no worse than losing it in the network; after a conflict it is addressed to a
  /// leader of an older term anyway. Acknowledgements already handed out in a Ready stay true:
  /// they leave only once that Ready's entries are durable.
  private mutating func retractAcknowledgements(from index: UInt64) {
    outbox.removeAll { message in
      guard case .appendResponse(let response) = message.body else { return false }
      return !response.rejected && response.index >= index
    }
  }
}
