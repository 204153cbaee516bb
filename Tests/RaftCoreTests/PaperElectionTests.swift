import O3TestSupport
import Testing

@testable import RaftCore

/// Raft paper §5.1 (basics) and §5.2 (leader election). Each test quotes the sentences it
/// checks.
@Suite(.watchdog, .ownThreads) struct PaperElectionTests {
  /// §5.1: "If one server's current term is smaller than the other's, then it updates its
  /// current term to the larger value. If a candidate or leader discovers that its term is out
  /// of date, it immediately reverts to follower state."
  @Test(arguments: [RaftRole.follower, .candidate, .leader])
  func adoptsLargerTermAndBecomesFollower(role: RaftRole) {
    var node = Fixture.node()
    switch role {
    case .follower: break
    case .candidate: node.campaign()
    default: node = Fixture.leader()
    }
    let newerTerm = node.term + 5
    node.step(Fixture.message(from: 2, to: 1, term: newerTerm, .heartbeat(commit: 0, readRound: 0)))
    #expect(node.term == newerTerm)
    #expect(node.role == .follower)
    #expect(node.leader == 2)
  }

  /// §5.1: "If a server receives a request with a stale term number, it rejects the request."
  @Test func rejectsRequestWithStaleTerm() {
    var node = Fixture.node(storage: Fixture.storage(hardState: HardState(term: 3)))
    let stale = AppendRequest(previous: .zero, entries: [LogEntry(term: 2, index: 1)], commit: 1)
    node.step(Fixture.message(from: 2, to: 1, term: 2, .append(stale)))
    #expect(node.term == 3)
    #expect(node.lastIndex == 0)
    #expect(node.leader == nil)
  }

  /// §5.2: "When servers start up, they begin as followers."
  @Test func startsAsFollower() {
    let node = Fixture.node()
    #expect(node.role == .follower)
    #expect(node.term == 0)
  }

  /// §5.2: "Leaders send periodic heartbeats (AppendEntries RPCs that carry no log entries) to
  /// all followers in order to maintain their authority."
  @Test func leaderSendsPeriodicHeartbeats() {
    var leader = Fixture.leader { $0.heartbeatIntervalTicks = 2 }
    leader.persistReady()
    leader.tick()
    #expect(leader.takeMessages().isEmpty)
    leader.tick()
    let heartbeats = leader.takeMessages()
    #expect(heartbeats.map(\.to) == [2, 3])
    #expect(heartbeats.allSatisfy { if case .heartbeat = $0.body { true } else { false } })
  }

  /// §5.2: "If a follower receives no communication over a period of time called the election
  /// timeout, then it assumes there is no viable leader and begins an election to choose a new
  /// leader. To begin an election, a follower increments its current term and transitions to
  /// candidate state. It then votes for itself and issues RequestVote RPCs in parallel to each
  /// of the other servers in the cluster." The same holds for a candidate whose election timed
  /// out (a new election in a new term).
  @Test(arguments: [RaftRole.follower, .candidate])
  func electionTimeoutStartsAnElection(role: RaftRole) {
    var node = Fixture.node()
    if role == .candidate { node.campaign() }
    node.persistReady()
    let termBefore = node.term
    for _ in 0..<(2 * node.configuration.electionTimeoutTicks) { node.tick() }
    #expect(node.term == termBefore + 1)
    #expect(node.role == .candidate)
    #expect(node.vote == 1)
    let requests = node.takeMessages()
    #expect(requests.map(\.to) == [2, 3])
    #expect(requests.allSatisfy { $0.body == .vote(lastLog: .zero, leadershipTransfer: false) })
  }

  /// §5.2: "A candidate wins an election if it receives votes from a majority of the servers in
  /// the full cluster for the same term." — and loses once a majority refused.
  @Test(arguments: [
    (3, [2: true], RaftRole.leader),
    (3, [2: false, 3: false], .follower),
    (3, [2: false], .candidate),
    (5, [2: true], .candidate),
    (5, [2: true, 3: true], .leader),
    (5, [2: false, 3: false, 4: false], .follower),
    (5, [2: true, 3: false, 4: false], .candidate),
  ] as [(Int, [UInt64: Bool], RaftRole)])
  func electionIsDecidedByMajority(size: Int, responses: [UInt64: Bool], expected: RaftRole) {
    let voters = (1...UInt64(size)).map { PeerID($0) }
    var node = Fixture.node(storage: Fixture.storage(voters: voters))
    node.campaign()
    for (voter, granted) in responses.sorted(by: { $0.key < $1.key }) {
      node.step(Fixture.message(from: PeerID(voter), to: 1, term: node.term, .voteResponse(granted: granted)))
    }
    #expect(node.role == expected)
    #expect(node.term == 1)
  }

  /// §5.2: "Each server will vote for at most one candidate in a given term, on a
  /// first-come-first-served basis."
  @Test(arguments: [(nil, true), (PeerID(2), true), (PeerID(3), false)] as [(PeerID?, Bool)])
  func votesAtMostOncePerTerm(alreadyVoted: PeerID?, expectGranted: Bool) {
    var node = Fixture.node(storage: Fixture.storage(hardState: HardState(term: 1, vote: alreadyVoted)))
    node.step(Fixture.message(from: 2, to: 1, term: 1, .vote(lastLog: .zero, leadershipTransfer: false)))
    let reply = node.takeMessages()
    #expect(reply == [Fixture.message(from: 1, to: 2, term: 1, .voteResponse(granted: expectGranted))])
    #expect(node.vote == (expectGranted ? 2 : alreadyVoted))
  }

  /// §5.2: "While waiting for votes, a candidate may receive an AppendEntries RPC from another
  /// server claiming to be leader. If the leader's term ... is at least as large as the
  /// candidate's current term, then the candidate recognizes the leader as legitimate and
  /// returns to follower state."
  @Test(arguments: [0, 1] as [UInt64])
  func candidateFollowsLegitimateLeader(termAhead: UInt64) {
    var node = Fixture.node()
    node.campaign()
    let term = node.term + termAhead
    node.step(Fixture.message(from: 2, to: 1, term: term, .heartbeat(commit: 0, readRound: 0)))
    #expect(node.role == .follower)
    #expect(node.leader == 2)
    #expect(node.term == term)
  }

  /// §5.2: "Raft uses randomized election timeouts to ensure that split votes are rare ...
  /// election timeouts are chosen randomly from a fixed interval (e.g., 150–300ms)." Each
  /// follower's timeout lies in [timeout, 2 × timeout) and the draws vary.
  @Test func electionTimeoutsAreRandomizedInOneInterval() {
    var timeouts: Set<Int> = []
    for seed in 0..<200 as Range<UInt64> {
      var node = Fixture.node(seed: seed)
      var ticks = 0
      while node.role == .follower {
        node.tick()
        ticks += 1
      }
      timeouts.insert(ticks)
    }
    #expect(timeouts.min()! >= 10)
    #expect(timeouts.max()! < 20)
    #expect(timeouts.count > 5)
  }

  /// §5.2: "... in most cases only a single server will time out; it wins the election and
  /// sends heartbeats before any other servers time out." Over many seeds, two followers of one
  /// group rarely time out on the same tick.
  @Test func splitVotesAreRare() {
    var conflicts = 0
    let rounds = 500
    for round in 0..<UInt64(rounds) {
      var first = Fixture.node(1, seed: round * 2 + 1)
      var second = Fixture.node(2, seed: round * 2 + 2)
      while first.role == .follower && second.role == .follower {
        first.tick()
        second.tick()
      }
      if first.role == second.role { conflicts += 1 }
    }
    #expect(Double(conflicts) / Double(rounds) < 0.3)
  }

  /// §5.2 with a durable vote: a peer that voted, crashed and restarted does not vote for
  /// another candidate in the same term.
  @Test func voteSurvivesRestart() {
    var node = Fixture.node()
    node.step(Fixture.message(from: 2, to: 1, term: 1, .vote(lastLog: .zero, leadershipTransfer: false)))
    node.persistReady()
    var restarted = Fixture.node(storage: node.storage)
    restarted.step(Fixture.message(from: 3, to: 1, term: 1, .vote(lastLog: .zero, leadershipTransfer: false)))
    #expect(restarted.takeMessages().first?.body == .voteResponse(granted: false))
    #expect(restarted.vote == 2)
  }
}
