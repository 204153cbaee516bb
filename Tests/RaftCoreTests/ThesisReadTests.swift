import O3TestSupport
import Testing

@testable import RaftCore

/// Raft paper §8 ("read-only operations can be handled without writing anything into the log")
/// and thesis §6.4 (processing read-only queries more efficiently) and §6.4.1 (leases).
@Suite(.watchdog, .ownThreads) struct ThesisReadTests {
  private func readStates(_ node: inout TestNode) -> [ReadState] { node.persistReady().readStates }

  private func heartbeats(_ messages: [RaftMessage]) -> [(to: PeerID, round: UInt64)] {
    messages.compactMap { message in
      if case .heartbeat(_, let round) = message.body { return (message.to, round) } else { return nil }
    }
  }

  /// Paper §8: "a leader must have the latest information on which entries are committed ...
  /// Raft handles this by having each leader commit a blank no-op entry into the log at the
  /// start of its term." Thesis §6.4 step 1: "If the leader has not yet marked an entry from its
  /// current term committed, it waits until it has done so." A read waits for the no-op, then
  /// for a heartbeat round.
  @Test func readWaitsForTheLeadersFirstCommit() throws {
    var leader = Fixture.leader()
    try leader.readIndex(context: [1])
    leader.persistReady()
    #expect(readStates(&leader).isEmpty)
    leader.step(Fixture.message(from: 2, to: 1, term: 1, .appendResponse(AppendResponse(index: 1))))
    let round = heartbeats(leader.takeMessages())
    #expect(round.map(\.to) == [2, 3])
    leader.step(Fixture.message(from: 3, to: 1, term: 1, .heartbeatResponse(readRound: round[0].round)))
    #expect(readStates(&leader) == [ReadState(index: 1, context: [1])])
  }

  /// §6.4 step 3: "The leader needs to make sure it hasn't been superseded ... it issues a new
  /// round of heartbeats and waits for their acknowledgments from a majority." Reads that arrive
  /// before the next Ready share one round; an older round is confirmed by an answer to a newer.
  @Test func readsShareHeartbeatRounds() throws {
    var leader = Fixture.leader()
    leader.commitNoop()
    try leader.readIndex(context: [1])
    try leader.readIndex(context: [2])
    let first = heartbeats(leader.takeMessages())
    #expect(first.count == 2)
    try leader.readIndex(context: [3])
    let second = heartbeats(leader.takeMessages())
    #expect(second.count == 2)
    #expect(second[0].round == first[0].round + 1)
    leader.step(Fixture.message(from: 2, to: 1, term: 1, .heartbeatResponse(readRound: second[0].round)))
    #expect(readStates(&leader).map(\.context) == [[1], [2], [3]])
  }

  /// Paper §8: "a leader must check whether it has been deposed before processing a read-only
  /// request". Without a majority the round is never confirmed and the read never released.
  @Test func readIsNotConfirmedWithoutAMajority() throws {
    var leader = Fixture.leader(voters: [1, 2, 3, 4, 5])
    leader.persistReady()
    for peer in [PeerID(2), 3] {
      leader.step(Fixture.message(from: peer, to: 1, term: 1, .appendResponse(AppendResponse(index: 1))))
    }
    leader.persistReady()
    try leader.readIndex(context: [1])
    let round = heartbeats(leader.takeMessages())[0].round
    leader.step(Fixture.message(from: 2, to: 1, term: 1, .heartbeatResponse(readRound: round)))
    #expect(readStates(&leader).isEmpty)
    leader.step(Fixture.message(from: 3, to: 1, term: 1, .heartbeatResponse(readRound: round)))
    #expect(readStates(&leader).count == 1)
  }

  /// §6.4: followers can serve reads too: "the follower could issue a request to the leader
  /// that just asked for a current readIndex".
  @Test func followerForwardsReadsToTheLeader() throws {
    var follower = Fixture.node(2)
    #expect(throws: RaftError.self) { try follower.readIndex(context: [7]) }
    follower.step(Fixture.message(from: 1, to: 2, term: 1, .heartbeat(commit: 0, readRound: 0)))
    follower.persistReady()
    try follower.readIndex(context: [7])
    #expect(follower.takeMessages() == [Fixture.message(from: 2, to: 1, term: 1, .readIndex(context: [7]))])
    follower.step(Fixture.message(from: 1, to: 2, term: 1, .readIndexResponse(context: [7], index: 5)))
    #expect(readStates(&follower) == [ReadState(index: 5, context: [7])])
  }

  /// A single voter needs no confirmation round.
  @Test func singleVoterAnswersReadsAtOnce() throws {
    var node = Fixture.node(storage: Fixture.storage(voters: [1]))
    node.campaign()
    node.persistReady()
    node.persistReady()
    try node.readIndex(context: [1])
    #expect(readStates(&node) == [ReadState(index: 1, context: [1])])
  }

  /// §6.4.1: lease-based reads "use the heartbeat mechanism to provide a form of lease" and are
  /// answered without a round — only with check-quorum, which bounds the lease.
  @Test func leaseReadsNeedCheckQuorumAndSkipTheRound() throws {
    var configuration = RaftConfiguration(id: 1)
    configuration.readMode = .leaseBased
    configuration.checkQuorum = false
    #expect(throws: RaftError(.invalidConfiguration, "lease-based reads require checkQuorum")) {
      try configuration.validate()
    }
    var leader = Fixture.leader { $0.readMode = .leaseBased; $0.checkQuorum = true }
    leader.commitNoop()
    try leader.readIndex(context: [4])
    let ready = leader.persistReady()
    #expect(ready.readStates == [ReadState(index: 1, context: [4])])
    #expect(heartbeats(ready.messages).isEmpty)
  }

  /// Pending reads are bounded; a leader that steps down drops them (callers retry).
  @Test func pendingReadsAreBoundedAndDroppedOnStepDown() throws {
    var leader = Fixture.leader { $0.pendingReadRequestsMax = 2 }
    try leader.readIndex(context: [1])
    try leader.readIndex(context: [2])
    do {
      try leader.readIndex(context: [3])
      Issue.record("read queue exceeded its bound")
    } catch {
      #expect(error.code == .readQueueFull)
    }
    leader.step(Fixture.message(from: 2, to: 1, term: 2, .heartbeat(commit: 0, readRound: 0)))
    #expect(leader.reads.count == 0)
  }
}
