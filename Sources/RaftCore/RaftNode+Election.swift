/// Voting (Raft paper §5.2, §5.4.1; pre-vote and the check-quorum lease, Raft thesis §9.6,
/// §4.2.3).
extension RaftNode {
  /// Votes for itself (a vote that counts only if it is a voter) and asks every other voter; a
  /// single voter wins at once.
  mutating func requestVotes(preVote: Bool, leadershipTransfer: Bool) {
    votes[id] = true
    if tallyVotes(preVote: preVote) { return }
    let lastLog = log.lastTermIndex
    for voter in membership.voters where voter != id {
      if preVote {
        send(to: voter, .preVote(lastLog: lastLog), term: term + 1)
      } else {
        send(to: voter, .vote(lastLog: lastLog, leadershipTransfer: leadershipTransfer))
      }
    }
  }

  /// Counts the votes; returns true when the election was decided.
  @discardableResult
  mutating func tallyVotes(preVote: Bool) -> Bool {
    switch MajorityQuorum.voteResult(voters: membership.voters, votes: votes) {
    case .pending:
      return false
    case .lost:
      becomeFollower(term: term, leader: nil)
    case .won where preVote:
      becomeCandidate()
      requestVotes(preVote: false, leadershipTransfer: false)
    case .won:
      becomeLeader()
    }
    return true
  }

  /// Answers a (pre-)vote request whose term is not older than ours (a vote request's term was
  /// already adopted). A vote is granted once per term, only to a candidate whose log is at
  /// least as up-to-date (§5.4.1); a pre-vote is granted for a later term on the same log rule
  /// and changes nothing here.
  mutating func answerVoteRequest(_ message: RaftMessage, lastLog: TermIndex, preVote: Bool) {
    let mayVote =
      vote == message.from || (vote == nil && leader == nil)
      || (preVote && message.term > term)
    let granted = mayVote && log.isUpToDate(lastLog)
    if preVote {
      // A grant carries the term asked about, a refusal ours (so a stale asker catches up).
      send(to: message.from, .preVoteResponse(granted: granted), term: granted ? message.term : term)
      return
    }
    if granted {
      electionElapsedTicks = 0
      vote = message.from
    }
    send(to: message.from, .voteResponse(granted: granted))
  }

  mutating func receiveVoteResponse(from peer: PeerID, granted: Bool, preVote: Bool) {
    guard role == (preVote ? .preCandidate : .candidate) else { return }
    votes[peer] = granted
    tallyVotes(preVote: preVote)
  }
}
