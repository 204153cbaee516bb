import O3TestSupport
import Testing

@testable import RaftCore

/// Raft thesis §3.10 (leadership transfer), §9.6 (pre-vote), §6.2 / §4.2.3 (check-quorum and
/// ignoring disruptive vote requests).
@Suite(.watchdog, .ownThreads) struct ThesisLeadershipTests {
  /// §3.10: "the prior leader sends its log entries to the target server ... then sends a
  /// TimeoutNow request to the target server. This request has the same effect as the target
  /// server's election timer firing." Proposals are refused meanwhile.
  @Test func transferCatchesUpTheTargetThenSendsTimeoutNow() throws {
    var leader = Fixture.leader()
    leader.commitNoop()
    _ = try leader.propose([1])
    leader.persistReady()
    leader.step(Fixture.message(from: 2, to: 1, term: 1, .appendResponse(AppendResponse(index: 2))))
    try leader.transferLeader(to: 3)
    do {
      _ = try leader.propose([2])
      Issue.record("proposal accepted during a transfer")
    } catch {
      #expect(error.code == .leadershipTransferInProgress)
    }
    #expect(!leader.takeMessages().contains { $0.body == .timeoutNow })
    leader.step(Fixture.message(from: 3, to: 1, term: 1, .appendResponse(AppendResponse(index: 2))))
    #expect(leader.takeMessages().contains { $0.to == 3 && $0.body == .timeoutNow })
  }

  /// §3.10: "If the transfer does not complete within about one election timeout, the prior
  /// leader aborts the transfer and resumes accepting client requests."
  @Test func transferIsAbortedAfterAnElectionTimeout() throws {
    var leader = Fixture.leader()
    leader.commitNoop()
    try leader.transferLeader(to: 3)
    for _ in 0..<leader.configuration.electionTimeoutTicks { leader.tick() }
    #expect(leader.status.transferTarget == nil)
    _ = try leader.propose([1])
  }

  @Test func transferTargetMustBeAVoter() {
    var leader = Fixture.node(storage: Fixture.storage(voters: [1, 2, 3], learners: [4]))
    #expect(throws: RaftError.self) { try leader.transferLeader(to: 4) }
    #expect(throws: RaftError.self) { try leader.transferLeader(to: 9) }
  }

  /// §3.10 and §4.2.3: the target's campaign overrides the followers' belief in a live leader.
  @Test func transferCampaignPassesTheLease() {
    var follower = Fixture.node(2) { $0.checkQuorum = true }
    follower.step(Fixture.message(from: 1, to: 2, term: 1, .heartbeat(commit: 0, readRound: 0)))
    follower.persistReady()
    follower.step(Fixture.message(from: 3, to: 2, term: 2, .vote(lastLog: .zero, leadershipTransfer: false)))
    #expect(follower.term == 1)
    #expect(follower.takeMessages().isEmpty)
    follower.step(Fixture.message(from: 3, to: 2, term: 2, .vote(lastLog: .zero, leadershipTransfer: true)))
    #expect(follower.term == 2)
    #expect(follower.takeMessages().first?.body == .voteResponse(granted: true))
  }

  /// §9.6: "a candidate would first ask other servers whether its log was up-to-date enough to
  /// get their vote ... Only if the candidate believes it can get votes from a majority ... would
  /// it increment its term and start a normal election." A failed pre-vote leaves the term.
  @Test func failedPreVoteLeavesTheTermAlone() {
    var node = Fixture.node { $0.preVote = true }
    node.campaign()
    #expect(node.role == .preCandidate)
    #expect(node.term == 0)
    let requests = node.takeMessages()
    #expect(requests.allSatisfy { $0.term == 1 && $0.body == .preVote(lastLog: .zero) })
    node.step(Fixture.message(from: 2, to: 1, term: 0, .preVoteResponse(granted: false)))
    node.step(Fixture.message(from: 3, to: 1, term: 0, .preVoteResponse(granted: false)))
    #expect(node.role == .follower)
    #expect(node.term == 0)
    #expect(node.vote == nil)
  }

  /// §9.6: a successful pre-vote leads to a real election in the next term.
  @Test func successfulPreVoteStartsTheElection() {
    var node = Fixture.node { $0.preVote = true }
    node.campaign()
    node.persistReady()
    node.step(Fixture.message(from: 2, to: 1, term: 1, .preVoteResponse(granted: true)))
    #expect(node.role == .candidate)
    #expect(node.term == 1)
    #expect(node.takeMessages().allSatisfy { $0.body == .vote(lastLog: .zero, leadershipTransfer: false) })
  }

  /// A pre-vote request changes nothing at the receiver, and is granted for a later term when
  /// the candidate's log is up to date (even though the receiver voted in its own term).
  @Test func preVoteRequestChangesNothing() {
    var voter = Fixture.node(2, storage: Fixture.storage(terms: [1], hardState: HardState(term: 1, vote: 3)))
    voter.step(Fixture.message(from: 1, to: 2, term: 2, .preVote(lastLog: TermIndex(term: 1, index: 1))))
    #expect(voter.term == 1)
    #expect(voter.vote == 3)
    #expect(voter.takeMessages() == [Fixture.message(from: 2, to: 1, term: 2, .preVoteResponse(granted: true))])
  }

  /// Check-quorum (§6.2): "a leader steps down if an election timeout elapses without a
  /// successful round of heartbeats to a majority of its cluster."
  @Test func leaderWithoutQuorumStepsDown() {
    var leader = Fixture.leader { $0.checkQuorum = true }
    let timeout = leader.configuration.electionTimeoutTicks
    for _ in 0..<timeout { leader.tick() }
    #expect(leader.role == .leader)
    leader.step(Fixture.message(from: 2, to: 1, term: 1, .heartbeatResponse(readRound: 0)))
    for _ in 0..<timeout { leader.tick() }
    #expect(leader.role == .leader)
    for _ in 0..<timeout { leader.tick() }
    #expect(leader.role == .follower)
    #expect(leader.term == 1)
  }

  /// §4.2.3: "if a server receives a RequestVote request within the minimum election timeout of
  /// hearing from a current leader, it does not update its term or grant its vote."
  @Test func followerInLeaseIgnoresVoteRequests() {
    var follower = Fixture.node(2) { $0.checkQuorum = true }
    follower.step(Fixture.message(from: 1, to: 2, term: 1, .heartbeat(commit: 0, readRound: 0)))
    follower.persistReady()
    follower.step(Fixture.message(from: 3, to: 2, term: 5, .vote(lastLog: .zero, leadershipTransfer: false)))
    #expect(follower.term == 1)
    #expect(follower.takeMessages().isEmpty)
    for _ in 0..<follower.configuration.electionTimeoutTicks { follower.tick() }
    follower.step(Fixture.message(from: 3, to: 2, term: 5, .vote(lastLog: .zero, leadershipTransfer: false)))
    #expect(follower.term == 5)
  }

  /// A leader deposed while cut off learns the newer term from the answer to its heartbeats,
  /// even though, with check-quorum, nobody's vote requests reach it.
  @Test func staleLeaderLearnsTheNewTermFromAnAnswer() {
    var follower = Fixture.node(2, storage: Fixture.storage(hardState: HardState(term: 3))) { $0.checkQuorum = true }
    follower.step(Fixture.message(from: 1, to: 2, term: 1, .heartbeat(commit: 0, readRound: 0)))
    let answer = follower.takeMessages()
    #expect(answer.map(\.term) == [3])
    var staleLeader = Fixture.leader { $0.checkQuorum = true }
    staleLeader.step(answer[0])
    #expect(staleLeader.role == .follower)
    #expect(staleLeader.term == 3)
  }
}
