import O3TestSupport
import Testing

@testable import RaftCore

/// Raft paper §5.3 (log replication). Each test quotes the sentences it checks.
@Suite(.watchdog, .ownThreads) struct PaperReplicationTests {
  /// §5.3: "Once a leader has been elected, it begins servicing client requests ... The leader
  /// appends the command to its log as a new entry, then issues AppendEntries RPCs in parallel
  /// to each of the other servers to replicate the entry."
  @Test func leaderAppendsThenReplicatesInParallel() throws {
    var leader = Fixture.leader()
    leader.commitNoop()
    let position = try leader.propose(Array("x".utf8))
    #expect(position == TermIndex(term: 1, index: 2))
    let ready = leader.persistReady()
    #expect(ready.entries.map(\.termIndex) == [position])
    let appends = ready.messages.compactMap { message -> AppendRequest? in
      if case .append(let request) = message.body { return request } else { return nil }
    }
    #expect(ready.messages.map(\.to) == [2, 3])
    #expect(appends.allSatisfy { $0.previous == TermIndex(term: 1, index: 1) && $0.entries.map(\.termIndex) == [position] })
  }

  /// §5.3: "A log entry is committed once the leader that created the entry has replicated it
  /// on a majority of the servers ... The leader keeps track of the highest index it knows to
  /// be committed, and it includes that index in future AppendEntries RPCs."
  @Test(arguments: [
    (3, [], false), (3, [2], true), (5, [2], false), (5, [2, 3], true), (5, [2, 3, 4, 5], true),
  ] as [(Int, [UInt64], Bool)])
  func leaderCommitsOnMajority(size: Int, acknowledgers: [UInt64], committed: Bool) throws {
    let voters = (1...UInt64(size)).map { PeerID($0) }
    var leader = Fixture.leader(voters: voters)
    leader.persistReady()
    for peer in acknowledgers {
      leader.step(Fixture.message(from: PeerID(peer), to: 1, term: 1, .appendResponse(AppendResponse(index: 1))))
    }
    #expect((leader.committed == 1) == committed)
    let ready = leader.persistReady()
    #expect(ready.committedEntries.map(\.index) == (committed ? [1] : []))
    if committed {
      let commits = ready.messages.compactMap { message -> UInt64? in
        if case .append(let request) = message.body { return request.commit } else { return nil }
      }
      #expect(!commits.isEmpty && commits.allSatisfy { $0 == 1 })
    }
  }

  /// §5.3: "This also commits all preceding entries in the leader's log, including entries
  /// created by previous leaders."
  @Test func committingAnEntryCommitsThePrecedingOnes() {
    var leader = Fixture.leader(terms: [1, 1, 2])
    #expect(leader.term == 3)
    leader.persistReady()
    leader.step(Fixture.message(from: 2, to: 1, term: 3, .appendResponse(AppendResponse(index: 4))))
    #expect(leader.committed == 4)
    #expect(leader.persistReady().committedEntries.map(\.index) == [1, 2, 3, 4])
  }

  /// §5.3: "Once a follower learns that a log entry is committed, it applies the entry to its
  /// local state machine (in log order)."
  @Test func followerAppliesWhatItLearnsIsCommitted() {
    var follower = Fixture.node(2, storage: Fixture.storage(terms: [1, 1, 1]))
    follower.step(Fixture.message(from: 1, to: 2, term: 1, .heartbeat(commit: 2, readRound: 0)))
    #expect(follower.persistReady().committedEntries.map(\.index) == [1, 2])
    let append = AppendRequest(previous: TermIndex(term: 1, index: 3), entries: [LogEntry(term: 1, index: 4)], commit: 4)
    follower.step(Fixture.message(from: 1, to: 2, term: 1, .append(append)))
    // The new entry is applied only once it is durable: persisted first, applied next Ready.
    #expect(follower.persistReady().committedEntries.map(\.index) == [3])
    #expect(follower.persistReady().committedEntries.map(\.index) == [4])
  }

  /// §5.3: "When sending an AppendEntries RPC, the leader includes the index and term of the
  /// entry in its log that immediately precedes the new entries. If the follower does not find
  /// an entry in its log with the same index and term, then it refuses the new entries."
  @Test(arguments: [
    (TermIndex(term: 0, index: 0), false), (TermIndex(term: 1, index: 1), false),
    (TermIndex(term: 2, index: 2), false), (TermIndex(term: 1, index: 2), true),
    (TermIndex(term: 3, index: 3), true), (TermIndex(term: 2, index: 3), true),
  ])
  func followerChecksThePrecedingEntry(previous: TermIndex, rejected: Bool) {
    var follower = Fixture.node(2, storage: Fixture.storage(terms: [1, 2]))
    let request = AppendRequest(previous: previous, entries: [], commit: 0)
    follower.step(Fixture.message(from: 1, to: 2, term: 2, .append(request)))
    guard case .appendResponse(let response) = follower.takeMessages().first?.body else {
      Issue.record("no answer")
      return
    }
    #expect(response.rejected == rejected)
  }

  /// §5.3: "If an existing entry conflicts with a new one (same index but different terms),
  /// delete the existing entry and all that follow it; append any new entries not already in
  /// the log."
  @Test(arguments: [
    (TermIndex(term: 2, index: 2), [(3, 3)], [1, 2, 3]),
    (TermIndex(term: 1, index: 1), [(3, 2), (4, 3)], [1, 3, 4]),
    (TermIndex(term: 0, index: 0), [(1, 1)], [1, 2]),
    (TermIndex(term: 0, index: 0), [(3, 1)], [3]),
  ] as [(TermIndex, [(UInt64, UInt64)], [UInt64])])
  func followerReplacesConflictsAndAppendsNew(previous: TermIndex, new: [(UInt64, UInt64)], expectedTerms: [UInt64]) {
    var follower = Fixture.node(2, storage: Fixture.storage(terms: [1, 2]))
    let request = AppendRequest(previous: previous, entries: Fixture.entries(new.map { ($0.0, $0.1) }), commit: 0)
    follower.step(Fixture.message(from: 1, to: 2, term: 3, .append(request)))
    follower.persistReady()
    #expect(follower.storage.entries.map(\.term) == expectedTerms)
  }

  /// §5.3, Figure 7: "the leader must find the latest log entry where the two logs agree,
  /// delete any entries in the follower's log after that point, and send the follower all of
  /// the leader's entries after that point." Followers (a)–(f) of Figure 7 each end up with the
  /// leader's log.
  @Test(arguments: [
    [1, 1, 1, 4, 4, 5, 5, 6, 6],
    [1, 1, 1, 4],
    [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6],
    [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7],
    [1, 1, 1, 4, 4, 4, 4],
    [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3],
  ] as [[UInt64]])
  func leaderBringsFigure7FollowersIntoAgreement(followerTerms: [UInt64]) {
    let leaderTerms: [UInt64] = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6]
    var cluster = TestCluster()
    cluster.addPeerWithLog(1, terms: leaderTerms, term: 8)
    cluster.addPeerWithLog(2, terms: followerTerms, term: 8)
    cluster.addPeerWithLog(3, terms: [], term: 8)
    cluster.with(1) { $0.campaign() }
    cluster.stabilize()
    #expect(cluster.node(1).role == .leader)
    let leaderLog = cluster.peer(1).storage.entries.map(\.termIndex)
    #expect(cluster.peer(2).storage.entries.map(\.termIndex) == leaderLog)
    #expect(cluster.peer(3).storage.entries.map(\.termIndex) == leaderLog)
  }

  /// §5.3, last paragraph: "when rejecting an AppendEntries request, the follower can include
  /// the term of the conflicting entry and the first index it stores for that term ... one
  /// AppendEntries RPC will be required for each term with conflicting entries, rather than one
  /// RPC per entry." Our hint names the last position at or before the mismatch whose term is
  /// at most the leader's term there; the leader then probes right after its own matching point.
  @Test(arguments: [
    // leader log, follower log, the previous index the leader probes after one rejection
    ([1, 1, 2, 2, 2, 3, 3, 3], [1, 1, 2, 2, 2, 2, 2, 2, 2, 2], UInt64(5)),
    // The follower's term-3 run is skipped at once; the leader's term-4 run in one more step.
    ([1, 1, 2, 2, 4, 4, 4, 4], [1, 1, 3, 3, 3, 3], UInt64(4)),
    ([1, 2, 2, 4, 4, 4], [1, 1], UInt64(1)),
    ([1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1, 1], UInt64(5)),
  ] as [([UInt64], [UInt64], UInt64)])
  func rejectionHintSkipsAWholeTerm(leaderTerms: [UInt64], followerTerms: [UInt64], probeAfter: UInt64) {
    let leaderTerm = (leaderTerms.last ?? 0) + 1
    var leader = Fixture.node(storage: Fixture.storage(terms: leaderTerms, hardState: HardState(term: leaderTerm - 1)))
    leader.campaign()
    leader.step(Fixture.message(from: 2, to: 1, term: leader.term, .voteResponse(granted: true)))
    leader.persistReady()
    var follower = Fixture.node(2, storage: Fixture.storage(terms: followerTerms, hardState: HardState(term: leader.term)))
    let lastLeaderEntry = UInt64(leaderTerms.count)
    let probe = AppendRequest(
      previous: TermIndex(term: leaderTerms.last!, index: lastLeaderEntry), entries: [], commit: 0)
    follower.step(Fixture.message(from: 1, to: 2, term: leader.term, .append(probe)))
    let rejection = follower.takeMessages()
    leader.step(rejection[0])
    let next = leader.takeMessages().compactMap { message -> TermIndex? in
      if case .append(let request) = message.body, message.to == 2 { return request.previous } else { return nil }
    }
    #expect(next.first?.index == probeAfter)
  }
}

extension TestCluster {
  /// A peer of the group (1, 2, 3) whose log holds entries of `terms` at indexes 1, 2, ...
  mutating func addPeerWithLog(_ id: PeerID, terms: [UInt64], term: UInt64) {
    addPeer(id, membership: Membership(voters: [1, 2, 3])) { $0.preVote = false; $0.checkQuorum = false }
    replaceStorage(of: id, with: Fixture.storage(terms: terms, hardState: HardState(term: term)))
  }
}
