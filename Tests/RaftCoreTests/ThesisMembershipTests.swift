import O3TestSupport
import Testing

@testable import RaftCore

/// Raft paper §6 and thesis chapter 4 (cluster membership changes), with O3's choice: a membership takes
/// effect when its entry is appended (§4.1), one server changes at a time, and a leader changes
/// membership only after committing an entry of its own term.
@Suite(.watchdog, .ownThreads) struct ThesisMembershipTests {
  /// §4.1: "a server always uses the latest configuration in its log, regardless of whether
  /// the entry is committed." A follower adopts the change as soon as it appends it.
  @Test func followerAdoptsMembershipOnAppend() {
    var follower = Fixture.node(2, storage: Fixture.storage(terms: [1]))
    let change = MembershipChange(.addLearner, peer: 4)
    let entry = LogEntry(term: 1, index: 2, kind: .membershipChange, data: change.encoded())
    let request = AppendRequest(previous: TermIndex(term: 1, index: 1), entries: [entry], commit: 0)
    follower.step(Fixture.message(from: 1, to: 2, term: 1, .append(request)))
    #expect(follower.membership == Membership(voters: [1, 2, 3], learners: [4]))
    #expect(follower.committed == 0)
  }

  /// §4.1: "a log entry for a configuration change can be removed (if leadership changes); in
  /// this case, a server must be prepared to fall back to the previous configuration in its
  /// log."
  @Test func truncatedChangeFallsBackToPreviousMembership() {
    var follower = Fixture.node(2, storage: Fixture.storage(terms: [1]))
    let removal = LogEntry(
      term: 1, index: 2, kind: .membershipChange, data: MembershipChange(.removePeer, peer: 3).encoded())
    follower.step(Fixture.message(from: 1, to: 2, term: 1, .append(
      AppendRequest(previous: TermIndex(term: 1, index: 1), entries: [removal], commit: 0))))
    #expect(follower.membership.voters == [1, 2])
    let replacement = LogEntry(term: 2, index: 2, data: [9])
    follower.step(Fixture.message(from: 3, to: 2, term: 2, .append(
      AppendRequest(previous: TermIndex(term: 1, index: 1), entries: [replacement], commit: 0))))
    #expect(follower.membership.voters == [1, 2, 3])
    #expect(follower.status.membershipIndex == 0)
  }

  /// §4.1: "The leader ... will not begin a new configuration change until the previous one
  /// has committed" — and (the 2015 fix to single-server changes) not before it committed an
  /// entry of its own term.
  @Test func oneChangeAtATimeAndOnlyAfterTheLeadersFirstCommit() throws {
    var leader = Fixture.leader()
    do {
      _ = try leader.proposeMembershipChange(MembershipChange(.addLearner, peer: 4))
      Issue.record("a change was accepted before the leader's first commit")
    } catch {
      #expect(error.code == .leaderNotReady)
    }
    leader.commitNoop()
    let first = try leader.proposeMembershipChange(MembershipChange(.addLearner, peer: 4))
    do {
      _ = try leader.proposeMembershipChange(MembershipChange(.addLearner, peer: 5))
      Issue.record("a second uncommitted change was accepted")
    } catch {
      #expect(error.code == .membershipChangeInProgress)
    }
    leader.persistReady()
    for peer in [PeerID(2), 3] {
      leader.step(Fixture.message(from: peer, to: 1, term: 1, .appendResponse(AppendResponse(index: first.index))))
    }
    _ = try leader.proposeMembershipChange(MembershipChange(.addLearner, peer: 5))
    #expect(leader.membership.learners == [4, 5])
  }

  /// Changes must fit the membership they change.
  @Test(arguments: [
    MembershipChange(.addLearner, peer: 2), MembershipChange(.addVoter, peer: 3),
    MembershipChange(.promoteLearner, peer: 2), MembershipChange(.promoteLearner, peer: 9),
    MembershipChange(.removePeer, peer: 9),
  ])
  func invalidChangesAreRefused(change: MembershipChange) {
    var leader = Fixture.leader()
    leader.commitNoop()
    do {
      _ = try leader.proposeMembershipChange(change)
      Issue.record("\(change) was accepted")
    } catch {
      #expect(error.code == .invalidMembershipChange)
    }
  }

  @Test func theLastVoterCannotBeRemoved() throws {
    #expect(throws: RaftError.self) { try Membership(voters: [1]).applying(MembershipChange(.removePeer, peer: 1)) }
    #expect(try Membership(voters: [1], learners: [2]).applying(MembershipChange(.removePeer, peer: 2)) == Membership(voters: [1]))
  }

  /// §4.2.1: new servers join as non-voting members: "the leader replicates log entries to
  /// them, but they are not considered for majorities." A learner's acknowledgement does not
  /// commit, and a learner never campaigns.
  @Test func learnersNeitherCountNorCampaign() {
    var leader = Fixture.node(storage: Fixture.storage(voters: [1, 2, 3], learners: [4]))
    leader.campaign()
    leader.step(Fixture.message(from: 2, to: 1, term: 1, .voteResponse(granted: true)))
    leader.persistReady()
    leader.step(Fixture.message(from: 4, to: 1, term: 1, .appendResponse(AppendResponse(index: 1))))
    #expect(leader.committed == 0)
    var learner = Fixture.node(4, storage: Fixture.storage(voters: [1, 2, 3], learners: [4]))
    for _ in 0..<100 { learner.tick() }
    #expect(learner.role == .follower)
    #expect(learner.term == 0)
    learner.campaign()
    #expect(learner.role == .follower)
  }

  /// §4.2.2: "the leader ... steps down once the C_new entry is committed ... the leader manages
  /// a cluster that does not include itself; it replicates log entries but does not count
  /// itself in majorities."
  @Test func leaderRemovingItselfCountsOnlyTheNewVoters() throws {
    var leader = Fixture.leader()
    leader.commitNoop()
    let removal = try leader.proposeMembershipChange(MembershipChange(.removePeer, peer: 1))
    leader.persistReady()
    leader.step(Fixture.message(from: 2, to: 1, term: 1, .appendResponse(AppendResponse(index: removal.index))))
    // Leader + 2 would be a majority of three, but the leader no longer counts.
    #expect(leader.committed == 1)
    #expect(leader.role == .leader)
    leader.step(Fixture.message(from: 3, to: 1, term: 1, .appendResponse(AppendResponse(index: removal.index))))
    #expect(leader.committed == removal.index)
    #expect(leader.role == .follower)
    let handOver = leader.takeMessages().filter { $0.body == .timeoutNow }
    #expect(handOver.map(\.to) == [2])
  }

  /// A log of voters 1, 2, 3 in which entry 2 removes peer 1 and entry 3, if asked for, adds
  /// learner 4; committed through `commit`.
  private func logRemovingPeer1(commit: UInt64, laterChange: Bool = false) -> MemoryRaftStorage {
    var entries = [
      LogEntry(term: 1, index: 1),
      LogEntry(term: 1, index: 2, kind: .membershipChange, data: MembershipChange(.removePeer, peer: 1).encoded()),
    ]
    if laterChange {
      entries.append(LogEntry(term: 1, index: 3, kind: .membershipChange, data: MembershipChange(.addLearner, peer: 4).encoded()))
    }
    return MemoryRaftStorage(
      hardState: HardState(term: 1, commit: commit),
      snapshot: SnapshotMetadata(last: .zero, membership: Membership(voters: [1, 2, 3])), entries: entries)
  }

  /// §4.2.2: "a server that is not part of its own latest configuration should still start new
  /// elections, as it might still be needed until the C_new entry is committed (as in Figure
  /// 4.6). It does not count its own vote in elections unless it is part of its latest
  /// configuration." Elected by 2 and 3, it commits its removal and hands over.
  @Test func voterRemovedByAnUncommittedChangeStillCampaigns() {
    var removed = Fixture.node(1, storage: logRemovingPeer1(commit: 1))
    #expect(removed.membership.voters == [2, 3])
    removed.campaign()
    #expect(removed.role == .candidate)
    #expect(removed.takeMessages().map(\.to) == [2, 3])
    removed.step(Fixture.message(from: 2, to: 1, term: 2, .voteResponse(granted: true)))
    #expect(removed.role == .candidate, "its own vote counted")
    removed.step(Fixture.message(from: 3, to: 1, term: 2, .voteResponse(granted: true)))
    #expect(removed.role == .leader)
    removed.commitNoop()
    #expect(removed.committed == 3)
    #expect(removed.role == .follower)
    removed.campaign()
    #expect(removed.role == .follower)
  }

  /// Once the removal is known committed, by the commit index or by a later change (a leader
  /// appends one only after the previous one committed), the removed peer no longer campaigns.
  @Test(arguments: [(UInt64(2), false), (UInt64(1), true)])
  func removedVoterStaysQuietOnceItsRemovalIsCommitted(commit: UInt64, laterChange: Bool) {
    var removed = Fixture.node(1, storage: logRemovingPeer1(commit: commit, laterChange: laterChange))
    for _ in 0..<100 { removed.tick() }
    removed.campaign()
    #expect(removed.role == .follower)
    #expect(removed.term == 1)
  }

  /// §4.1 recovery: a restarted peer rebuilds its membership from the log it holds.
  @Test func restartReplaysMembershipEntries() throws {
    var leader = Fixture.leader()
    leader.commitNoop()
    _ = try leader.proposeMembershipChange(MembershipChange(.addLearner, peer: 4))
    leader.persistReady()
    let restarted = Fixture.node(storage: leader.storage)
    #expect(restarted.membership == Membership(voters: [1, 2, 3], learners: [4]))
    #expect(restarted.status.membershipIndex == 2)
  }

  /// A founding peer's log records the initial membership as committed entries, so a peer that
  /// joins with an empty log learns the whole membership history by replication.
  @Test func bootstrapLogDescribesTheInitialMembership() {
    let bootstrap = BootstrapLog(membership: Membership(voters: [3, 1], learners: [7]))
    #expect(bootstrap.entries.map(\.index) == [1, 2, 3])
    #expect(bootstrap.hardState == HardState(term: 1, vote: nil, commit: 3))
    var membership = Membership.empty
    for entry in bootstrap.entries {
      membership = try! membership.applying(MembershipChange(decoding: entry.data))
    }
    #expect(membership == Membership(voters: [1, 3], learners: [7]))
    #expect(BootstrapLog(membership: .empty).entries.isEmpty)
  }

  @Test func membershipChangeEncodingRoundTrips() throws {
    let change = MembershipChange(.promoteLearner, peer: PeerID(0x0102_0304_0506_0708), context: Array("om4:9872".utf8))
    #expect(try MembershipChange(decoding: change.encoded()) == change)
    #expect(throws: RaftError.self) { try MembershipChange(decoding: [1, 2, 3]) }
    #expect(throws: RaftError.self) { try MembershipChange(decoding: [9] + change.encoded().dropFirst()) }
    #expect(throws: RaftError.self) { try MembershipChange(decoding: [1, 1, 0, 0, 0, 0, 0, 0, 0, 0]) }
  }
}
