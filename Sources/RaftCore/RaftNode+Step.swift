/// Routing an incoming message: the term rules of Raft paper §5.1, then the role's handler.
extension RaftNode {
  mutating func receive(_ message: RaftMessage) {
    if message.term > term {
      guard adoptNewerTerm(of: message) else { return }
    } else if message.term < term {
      answerOlderTerm(message)
      return
    }
    switch message.body {
    case .preVote(let lastLog):
      answerVoteRequest(message, lastLog: lastLog, preVote: true)
    case .vote(let lastLog, _):
      answerVoteRequest(message, lastLog: lastLog, preVote: false)
    default:
      switch role {
      case .leader: receiveAsLeader(message)
      case .preCandidate, .candidate: receiveAsCandidate(message)
      case .follower: receiveAsFollower(message)
      }
    }
  }

  /// Reacts to a message from a newer term; returns false when the message is to be ignored.
  private mutating func adoptNewerTerm(of message: RaftMessage) -> Bool {
    switch message.body {
    case .preVote, .vote(_, leadershipTransfer: false):
      // A peer that heard from a live leader ignores campaigns (thesis §4.2.3): a removed or
      // cut-off peer must not depose a healthy leader.
      if isInLease { return false }
      if case .vote = message.body { becomeFollower(term: message.term, leader: nil) }
    case .vote(_, leadershipTransfer: true):
      becomeFollower(term: message.term, leader: nil)
    case .preVoteResponse(granted: true):
      // A grant is stamped with the term we would campaign in, not a term anyone holds.
      break
    case .append, .heartbeat, .snapshotNotice, .timeoutNow, .readIndexResponse:
      becomeFollower(term: message.term, leader: message.from)
    default:
      becomeFollower(term: message.term, leader: nil)
    }
    return true
  }

  /// Answers a message from an older term so that its stale sender catches up, where that
  /// helps; otherwise drops it.
  private mutating func answerOlderTerm(_ message: RaftMessage) {
    switch message.body {
    case .append, .heartbeat:
      // A leader deposed while cut off would otherwise never hear the newer term: with
      // check-quorum or pre-vote, nobody's vote requests reach it with a higher term.
      if configuration.checkQuorum || configuration.preVote {
        send(to: message.from, .appendResponse(AppendResponse(index: 0)))
      }
    case .preVote:
      send(to: message.from, .preVoteResponse(granted: false))
    default:
      break
    }
  }

  private mutating func receiveAsCandidate(_ message: RaftMessage) {
    switch message.body {
    case .append, .heartbeat, .snapshotNotice:
      // Someone won this term: follow it (§5.2).
      becomeFollower(term: term, leader: message.from)
      receiveAsFollower(message)
    case .preVoteResponse(let granted):
      guard !granted || message.term == term + 1 else { return }
      receiveVoteResponse(from: message.from, granted: granted, preVote: true)
    case .voteResponse(let granted):
      receiveVoteResponse(from: message.from, granted: granted, preVote: false)
    case .readIndexResponse(let context, let index):
      readStates.append(ReadState(index: index, context: context))
    default:
      break
    }
  }

  private mutating func receiveAsFollower(_ message: RaftMessage) {
    switch message.body {
    case .append(let request):
      followLeader(message.from)
      receiveAppend(request, from: message.from)
    case .heartbeat(let commit, let readRound):
      followLeader(message.from)
      log.commit(to: min(commit, log.lastIndex))
      send(to: message.from, .heartbeatResponse(readRound: readRound))
    case .snapshotNotice(let request):
      followLeader(message.from)
      receiveSnapshotNotice(request, from: message.from)
    case .timeoutNow:
      // The leader asks us to take over (thesis §3.10): campaign now, past any lease.
      startElection(leadershipTransfer: true)
    case .readIndexResponse(let context, let index):
      readStates.append(ReadState(index: index, context: context))
    default:
      break
    }
  }

  private mutating func followLeader(_ sender: PeerID) {
    precondition(
      leader == nil || leader == sender,
      "two leaders in term \(term): \(leader.map(\.description) ?? "-") and \(sender)")
    leader = sender
    electionElapsedTicks = 0
  }

  private mutating func receiveAsLeader(_ message: RaftMessage) {
    switch message.body {
    case .appendResponse(let response):
      receiveAppendResponse(response, from: message.from)
    case .heartbeatResponse(let readRound):
      receiveHeartbeatResponse(readRound: readRound, from: message.from)
    case .snapshotStatus(let status):
      receiveSnapshotStatus(status, from: message.from)
    case .readIndex(let context):
      // A refused forwarded read is dropped; the follower's caller retries on its timeout.
      try? leaderReadIndex(context: context, from: message.from)
    case .transferLeader(let target):
      if membership.isVoter(target) { startTransfer(to: target) }
    case .append, .heartbeat, .snapshotNotice:
      preconditionFailure("two leaders in term \(term): \(id) and \(message.from)")
    default:
      break
    }
  }
}
