/// Role transitions and the passage of time (Raft paper §5.2; pre-vote, Raft thesis §9.6).
extension RaftNode {
  /// Whether this peer may campaign: a voter of the membership in force, or a voter that the
  /// newest change removed while that change is not known to be committed. Raft thesis §4.2.2:
  /// a server outside its latest configuration "should still start new elections, as it might
  /// still be needed until the C_new entry is committed" (Figure 4.6). Peers that lack the
  /// removal still count this peer as a voter and may need its vote, which it refuses them
  /// while its log is longer; then only it can lead, commit the removal and hand over. Its own
  /// vote does not count (votes are tallied over the membership in force).
  var isPromotable: Bool {
    if membership.isVoter(id) { return true }
    let newest = membershipLog.current
    // One change at a time: a change after the removal proves the removal committed.
    guard newest.index > log.committed else { return false }
    return membershipLog.membership(at: newest.index - 1).isVoter(id)
  }

  /// Whether a leader was heard from within the election timeout, so that check-quorum's
  /// promise holds: no other leader can have been elected meanwhile.
  var isInLease: Bool {
    configuration.checkQuorum && leader != nil
      && electionElapsedTicks < configuration.electionTimeoutTicks
  }

  mutating func becomeFollower(term newTerm: UInt64, leader newLeader: PeerID?) {
    reset(toTerm: newTerm)
    role = .follower
    leader = newLeader
  }

  /// A pre-candidate keeps its term and vote: asking whether others would vote promises
  /// nothing and must leave no trace if the answer is no.
  mutating func becomePreCandidate() {
    precondition(role != .leader, "a leader does not pre-campaign")
    role = .preCandidate
    leader = nil
    votes = [:]
    restartElectionTimer()
  }

  mutating func becomeCandidate() {
    precondition(role != .leader, "a leader does not campaign")
    reset(toTerm: term + 1)
    vote = id
    role = .candidate
  }

  mutating func becomeLeader() {
    precondition(role == .candidate, "only a candidate becomes leader")
    reset(toTerm: term)
    role = .leader
    leader = id
    pendingNotice = nil
    synchronizeProgressWithMembership()
    // The no-op commits the entries of earlier terms (paper §5.4.2) and tells the leader when
    // it may serve reads and change the membership.
    _ = appendAsLeader(kind: .normal, data: [])
  }

  /// Starts a (pre-)election if this peer may campaign.
  mutating func startElection(leadershipTransfer: Bool) {
    guard isPromotable else { return }
    if configuration.preVote && !leadershipTransfer {
      becomePreCandidate()
      requestVotes(preVote: true, leadershipTransfer: false)
    } else {
      becomeCandidate()
      requestVotes(preVote: false, leadershipTransfer: leadershipTransfer)
    }
  }

  mutating func tickElection() {
    electionElapsedTicks += 1
    guard isPromotable, electionElapsedTicks >= randomizedElectionTimeoutTicks else { return }
    startElection(leadershipTransfer: false)
  }

  mutating func tickLeader() {
    heartbeatElapsedTicks += 1
    electionElapsedTicks += 1
    if electionElapsedTicks >= configuration.electionTimeoutTicks {
      electionElapsedTicks = 0
      if configuration.checkQuorum {
        guard isQuorumActive() else {
          becomeFollower(term: term, leader: nil)
          return
        }
        for peer in progress.keys where peer != id { progress[peer]!.recentActive = false }
      }
    }
    if transferTarget != nil {
      transferElapsedTicks += 1
      if transferElapsedTicks >= configuration.electionTimeoutTicks { abortTransfer() }
    }
    for peer in progress.keys where progress[peer]!.state == .snapshot {
      progress[peer]!.noticeAgeTicks += 1
    }
    if heartbeatElapsedTicks >= configuration.heartbeatIntervalTicks {
      heartbeatElapsedTicks = 0
      broadcastHeartbeat()
    }
  }

  /// Whether a majority of voters was heard from in this check-quorum period.
  func isQuorumActive() -> Bool {
    let heard = membership.voters.filter { $0 == id || progress[$0]?.recentActive == true }
    return heard.count >= membership.voters.count / 2 + 1
  }

  private mutating func reset(toTerm newTerm: UInt64) {
    precondition(newTerm >= term, "term went backwards from \(term) to \(newTerm)")
    if newTerm != term {
      term = newTerm
      vote = nil
    }
    leader = nil
    votes = [:]
    progress = [:]
    heartbeatElapsedTicks = 0
    abortTransfer()
    uncommitted.reset()
    reads.reset()
    restartElectionTimer()
  }

  private mutating func restartElectionTimer() {
    electionElapsedTicks = 0
    let timeout = configuration.electionTimeoutTicks
    randomizedElectionTimeoutTicks = timeout + random.next(upperBound: timeout)
  }
}
