import O3TestSupport
import Testing

@testable import RaftCore

/// Raft paper §5.4 (safety): the election restriction (§5.4.1) and committing entries from
/// previous terms (§5.4.2).
@Suite(.watchdog, .ownThreads) struct PaperSafetyTests {
  /// §5.4.1: "the voter denies its vote if its own log is more up-to-date than that of the
  /// candidate ... If the logs have last entries with different terms, then the log with the
  /// later term is more up-to-date. If the logs end with the same term, then whichever log is
  /// longer is more up-to-date."
  @Test(arguments: [
    // voter's log terms, candidate's last entry, granted
    ([1, 1], TermIndex(term: 1, index: 2), true),
    ([1, 1], TermIndex(term: 1, index: 3), true),
    ([1, 1], TermIndex(term: 1, index: 1), false),
    ([1, 1], TermIndex(term: 2, index: 1), true),
    ([1, 2], TermIndex(term: 1, index: 3), false),
    ([1, 2], TermIndex(term: 2, index: 2), true),
    ([1, 2], TermIndex(term: 3, index: 1), true),
  ] as [([UInt64], TermIndex, Bool)])
  func voterDeniesLessUpToDateCandidate(voterTerms: [UInt64], candidateLast: TermIndex, granted: Bool) {
    var voter = Fixture.node(2, storage: Fixture.storage(terms: voterTerms))
    voter.step(Fixture.message(from: 1, to: 2, term: 3, .vote(lastLog: candidateLast, leadershipTransfer: false)))
    #expect(voter.takeMessages().first?.body == .voteResponse(granted: granted))
  }

  /// §5.4.2: "Raft never commits log entries from previous terms by counting replicas. Only log
  /// entries from the leader's current term are committed by counting replicas."
  @Test(arguments: [
    // index acknowledged by a majority, whether it commits (the leader's term is 3)
    (UInt64(1), false), (UInt64(2), false), (UInt64(3), true),
  ])
  func leaderCommitsOnlyCurrentTermEntriesByCounting(acknowledged: UInt64, commits: Bool) {
    var leader = Fixture.leader(terms: [1, 2])
    #expect(leader.term == 3)
    leader.persistReady()
    leader.step(Fixture.message(from: 2, to: 1, term: 3, .appendResponse(AppendResponse(index: acknowledged))))
    #expect(leader.committed == (commits ? acknowledged : 0))
  }

  /// §5.4.2, Figure 8 (e): "if S1 replicates an entry from its current term on a majority of
  /// the servers before crashing ... this entry is committed (S5 cannot win an election). At
  /// this point all preceding entries in the log are committed as well."
  @Test func figure8CurrentTermEntryCommitsEarlierOnes() {
    var cluster = TestCluster()
    cluster.addPeerWithLog(1, terms: [1, 2], term: 4)
    cluster.addPeerWithLog(2, terms: [1, 2], term: 4)
    cluster.addPeerWithLog(3, terms: [1], term: 4)
    cluster.with(1) { $0.campaign() }
    cluster.stabilize()
    #expect(cluster.node(1).committed == 3)
    #expect(cluster.peer(3).applied.map(\.termIndex) == [
      TermIndex(term: 1, index: 1), TermIndex(term: 2, index: 2), TermIndex(term: 5, index: 3),
    ])
    // A candidate whose last entry is from term 3 can no longer win: 2 and 3 refuse it.
    for voter in [PeerID(2), 3] {
      let request = RaftMessage.Body.vote(lastLog: TermIndex(term: 3, index: 2), leadershipTransfer: false)
      cluster.with(voter) { $0.step(Fixture.message(from: 5, to: voter, term: 6, request)) }
      #expect(cluster.processReady(voter)!.messages.last!.body == .voteResponse(granted: false))
    }
  }

  /// Leader Completeness (§5.4): with random drops, crashes and elections, no peer ever applies
  /// a different entry at an index another peer applied, and every entry a leader reported
  /// committed survives later leaders.
  @Test(arguments: 0..<20 as Range<UInt64>)
  func appliedEntriesNeverDiverge(seed: UInt64) {
    var random = SplitMix64Random(seed: seed)
    var cluster = TestCluster()
    for id in 1...5 as ClosedRange<UInt64> {
      cluster.addPeer(PeerID(id), membership: Membership(voters: [1, 2, 3, 4, 5]))
    }
    var reference: [UInt64: LogEntry] = [:]
    var checked: [PeerID: Int] = [:]
    for step in 0..<400 {
      switch random.next(upperBound: 10) {
      case 0:
        let id = PeerID(UInt64(random.next(upperBound: 5) + 1))
        if cluster.peer(id).node == nil { cluster.restart(id) } else if random.next(upperBound: 3) == 0 { cluster.crash(id) }
      case 1, 2:
        if let leader = cluster.leader { _ = try? cluster.with(leader) { node throws(RaftError) in try node.propose([UInt8(step % 256)]) } }
      case 3:
        let dropped = cluster.inFlight.indices.filter { _ in random.next(upperBound: 3) == 0 }
        _ = cluster.take(positions: Set(dropped))
      default:
        cluster.tick()
        for id in cluster.ids { cluster.processReady(id) }
        cluster.deliverAll()
      }
      for id in cluster.ids {
        let applied = cluster.peer(id).applied
        for entry in applied[(checked[id] ?? 0)...] {
          if let known = reference[entry.index] { #expect(known == entry) } else { reference[entry.index] = entry }
        }
        checked[id] = applied.count
      }
    }
    // The run must have made progress for the check to mean anything.
    #expect(reference.values.filter { !$0.data.isEmpty && $0.kind == .normal }.count > 10)
  }
}
