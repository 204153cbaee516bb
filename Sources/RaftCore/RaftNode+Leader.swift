/// The leader's side of log replication and commitment (Raft paper §5.3, §5.4.2).
extension RaftNode {
  func checkAcceptsProposals() throws(RaftError) {
    guard role == .leader else {
      throw RaftError(.notLeader, "peer \(id) is \(role.rawValue)", leaderHint: leader)
    }
    guard transferTarget == nil else {
      throw RaftError(
        .leadershipTransferInProgress,
        "leadership is moving to \(transferTarget!); retry on the new leader")
    }
  }

  /// One change at a time, and only after this leader's no-op committed: a new leader may hold
  /// an uncommitted change from an earlier term that it must first settle (the single-server
  /// change bug Ongaro reported on raft-dev in 2015).
  func checkAcceptsMembershipChange() throws(RaftError) {
    guard log.term(at: log.committed) == term else {
      throw RaftError(.leaderNotReady, "the leader has not yet committed an entry of term \(term)")
    }
    let current = membershipLog.current
    guard current.index <= log.committed else {
      throw RaftError(
        .membershipChangeInProgress,
        "the change at index \(current.index) is not committed yet (commit \(log.committed))")
    }
  }

  /// Appends one entry of this term to the leader's log.
  mutating func appendAsLeader(kind: EntryKind, data: [UInt8]) -> TermIndex {
    precondition(role == .leader, "only a leader appends its own entries")
    let entry = LogEntry(term: term, index: log.lastIndex + 1, kind: kind, data: data)
    log.append([entry])
    uncommitted.appended(index: entry.index, payloadBytes: entry.payloadBytes)
    if kind == .membershipChange {
      membershipLog.append([entry])
      synchronizeProgressWithMembership()
      // A smaller quorum may already hold entries the old one did not.
      _ = maybeCommit()
    }
    broadcastPending = true
    return entry.termIndex
  }

  /// Keeps one progress per member of the membership in force.
  mutating func synchronizeProgressWithMembership() {
    for peer in progress.keys where !membership.isMember(peer) {
      progress[peer] = nil
      if transferTarget == peer { abortTransfer() }
    }
    for peer in membership.members {
      if progress[peer] != nil {
        progress[peer]!.isLearner = membership.isLearner(peer)
        continue
      }
      var member = Progress(
        next: log.lastIndex + 1, isLearner: membership.isLearner(peer),
        inflightMessagesMax: configuration.inflightMessagesMax,
        inflightBytesMax: configuration.inflightBytesMax)
      if peer == id {
        _ = member.acknowledged(through: log.persistedLastIndex)
        member.becomeReplicate()
      }
      progress[peer] = member
    }
  }

  /// The leader's own writes became durable: they count toward the quorum now.
  mutating func leaderPersisted() {
    if progress[id] != nil { _ = progress[id]!.acknowledged(through: log.persistedLastIndex) }
    if maybeCommit() { broadcastPending = true }
  }

  /// Advances the commit index to the highest index a majority of voters holds, if that entry
  /// is of the current term: entries of earlier terms commit only indirectly (§5.4.2, Figure 8).
  mutating func maybeCommit() -> Bool {
    let index = MajorityQuorum.committedValue(voters: membership.voters) {
      progress[$0]?.match ?? 0
    }
    guard index > log.committed, log.term(at: index) == term else { return false }
    log.commit(to: index)
    uncommitted.committed(through: index)
    releaseReadsAwaitingFirstCommit()
    if !membership.isMember(id) && membershipLog.current.index <= log.committed {
      stepDownAfterRemoval()
      return false
    }
    return true
  }

  /// The entry removing this leader committed: it leaves (thesis §4.2.2), first telling the most
  /// up-to-date voter to campaign at once so the group is not leaderless for a timeout.
  private mutating func stepDownAfterRemoval() {
    let successor = membership.voters.first { progress[$0]?.match == log.lastIndex }
    if let successor { send(to: successor, .timeoutNow) }
    becomeFollower(term: term, leader: nil)
  }

  mutating func receiveAppendResponse(_ response: AppendResponse, from peer: PeerID) {
    guard var member = progress[peer] else { return }
    member.recentActive = true
    if response.rejected {
      let hint = response.hint
      let probeHint =
        hint.term > 0
        ? log.lastPosition(atOrBefore: hint.index, withTermAtMost: hint.term).index : hint.index
      let moved = member.rejected(response.index, probeHint: probeHint)
      progress[peer] = member
      if moved { sendAppends(to: peer, allowEmpty: true) }
      return
    }
    precondition(response.index <= log.lastIndex, "\(peer) acknowledged past the leader's log")
    let updated = member.acknowledged(through: response.index)
    // A probe answered at the known match (after a checkpoint install, or a resent probe)
    // also proves where the logs agree.
    if updated || (member.state == .probe && member.match == response.index) {
      switch member.state {
      case .probe: member.becomeReplicate()
      case .snapshot where member.match >= member.pendingSnapshot: member.becomeProbe()
      case .snapshot, .replicate: break
      }
    }
    progress[peer] = member
    if maybeCommit() { broadcastPending = true }
    guard role == .leader else { return }
    sendAppends(to: peer, allowEmpty: false)
    if transferTarget == peer && member.match == log.lastIndex { send(to: peer, .timeoutNow) }
  }

  mutating func receiveHeartbeatResponse(readRound: UInt64, from peer: PeerID) {
    guard var member = progress[peer] else { return }
    member.recentActive = true
    member.heartbeatAnswered()
    member.readRoundAcknowledged = max(member.readRoundAcknowledged, readRound)
    let noticeLost =
      member.state == .snapshot && member.noticeAgeTicks >= configuration.electionTimeoutTicks
    if noticeLost { member.becomeProbe() }
    progress[peer] = member
    if member.match < log.lastIndex { sendAppends(to: peer, allowEmpty: true) }
    confirmReads()
  }

  mutating func receiveSnapshotStatus(_ status: SnapshotInstallStatus, from peer: PeerID) {
    guard var member = progress[peer] else { return }
    member.recentActive = true
    switch status {
    case .installed(let position):
      guard member.state == .snapshot || position.index > member.match else { return }
      precondition(position.index <= log.lastIndex, "\(peer) installed past the leader's log")
      member.installed(through: position.index)
    case .inProgress:
      member.noticeAgeTicks = 0
      progress[peer] = member
      return
    case .failed:
      guard member.state == .snapshot else { return }
      member.becomeProbe()
    }
    progress[peer] = member
    sendAppends(to: peer, allowEmpty: true)
  }
}
