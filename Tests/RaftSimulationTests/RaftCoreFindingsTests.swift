import RaftCore
import O3TestSupport
import Testing

/// RaftCore defects the simulator found, reduced to a few direct steps so that they stay
/// fixed. Each test describes the defect as it was and checks the fixed behaviour.
@Suite(.watchdog, .ownThreads) struct RaftCoreFindingsTests {
  static let voters: [PeerID] = [1, 2, 3]

  static func follower(_ id: PeerID, voters: [PeerID]) throws -> (
    RaftNode<MemoryRaftStorage>, MemoryRaftStorage
  ) {
    let storage = MemoryRaftStorage(membership: Membership(voters: voters))
    let node = try RaftNode(
      configuration: RaftConfiguration(id: id), storage: storage,
      random: SplitMix64Random(seed: id.rawValue))
    return (node, storage)
  }

  /// Ready contract: "a vote or an acknowledgement must never leave before the state it
  /// promises is durable". A follower with a Ready outstanding accepts 2/5 from the leader of
  /// term 2 (queueing "ok index=5"), then a leader of term 3 overwrites 4 and 5 before the
  /// next Ready. That Ready persists only 3/4, yet still carries the term-2 acknowledgement of
  /// index 5, which the term-2 leader may count toward committing 2/5. Fixed: replacing log
  /// entries withdraws the queued acknowledgements that reach into them.
  /// (Found by the simulator, seed 758 at the time of writing.)
  @Test func acknowledgementOfOverwrittenEntryIsNotSent() throws {
    var (node, storage) = try Self.follower(2, voters: Self.voters)
    let bootstrapLast = storage.lastIndex
    let base = TermIndex(term: 1, index: bootstrapLast)
    func append(from leader: PeerID, term: UInt64, after previous: TermIndex, _ entryTerm: UInt64)
      -> RaftMessage
    {
      let entry = LogEntry(term: entryTerm, index: previous.index + 1, data: [1])
      return RaftMessage(
        from: leader, to: 2, term: term,
        body: .append(AppendRequest(previous: previous, entries: [entry], commit: bootstrapLast)))
    }
    node.step(append(from: 1, term: 2, after: base, 2))
    let first = node.ready()
    node.step(append(from: 1, term: 2, after: TermIndex(term: 2, index: base.index + 1), 2))
    node.step(append(from: 3, term: 3, after: base, 3))
    storage.save(first)
    node.advance()
    let second = node.ready()
    storage.save(second)
    #expect(storage.lastIndex == base.index + 1)
    let overwritten = base.index + 2
    let staleAcknowledgements = second.messages.filter { message in
      guard case .appendResponse(let response) = message.body else { return false }
      return !response.rejected && response.index >= overwritten
    }
    #expect(staleAcknowledgements.isEmpty, "\(staleAcknowledgements)")
  }

  /// `snapshotInstalled(_:)` took a position only, and the core read the membership at it from
  /// the notice's history, which ends where the leader's log ended when it sent the notice.
  /// The documentation allows installing a checkpoint after the compaction point, and a
  /// leader's checkpoint grows: here the notice knew "4 joins at 12", then 4 was removed at 15,
  /// and the checkpoint installed at 20 holds voters 1, 2, 3. The core took 1, 2, 3, 4, and
  /// trapped later when an entry added 4 again ("peer 4 is already a member"). Fixed:
  /// `snapshotInstalled(_:membership:)` takes the checkpoint's own membership.
  /// (Found by the simulator, seed 114 at the time of writing.)
  @Test func checkpointNewerThanTheNoticeGetsItsOwnMembership() throws {
    var (node, _) = try Self.follower(4, voters: [])
    let history = [
      MembershipRecord(index: 10, membership: Membership(voters: [1, 2, 3])),
      MembershipRecord(index: 12, membership: Membership(voters: [1, 2, 3, 4])),
    ]
    let notice = SnapshotNoticeRequest(
      leaderSnapshot: TermIndex(term: 2, index: 10), membershipHistory: history)
    node.step(RaftMessage(from: 1, to: 4, term: 2, body: .snapshotNotice(notice)))
    let ready = node.ready()
    #expect(ready.snapshotNotice != nil)
    node.advance()
    let accepted = node.snapshotInstalled(
      TermIndex(term: 2, index: 20), membership: Membership(voters: [1, 2, 3]))
    #expect(accepted)
    #expect(node.membership == Membership(voters: [1, 2, 3]))
    #expect(node.status.membershipIndex == 20)
  }

  /// Four voters lose one (2 is down). Leader 1 appends its own removal while cut off, then
  /// steps down by check-quorum before anyone receives it. From then on 1 holds the longest
  /// log, so it refuses 3's and 4's (pre-)votes, but the newest membership in its log leaves
  /// it out, so it never campaigns itself: 3 and 4 need 1's vote and never get it. A group
  /// of four voters that should survive one failure stays leaderless after healing. Fixed as
  /// Raft thesis §4.2.2 says: a voter removed by an uncommitted change still campaigns
  /// (without counting its own vote); 1 wins with 3's and 4's votes, commits its removal and
  /// hands over.
  /// (Found by the simulator's liveness phase, seeds 1406, 4790 and 5275 at the time of
  /// writing.)
  @Test func selfRemovalThatNobodyReceivedDoesNotBlockElections() throws {
    var cluster = try MiniCluster(voters: [1, 2, 3, 4])
    try cluster.with(1) { node throws(RaftError) in node.campaign() }
    cluster.settle()
    #expect(cluster.leaders == [1])
    cluster.down.insert(2)
    cluster.cutOff.insert(1)
    _ = try cluster.with(1) { node throws(RaftError) in
      try node.proposeMembershipChange(MembershipChange(.removePeer, peer: 1))
    }
    cluster.tick(30)
    #expect(cluster.leaders.isEmpty)
    #expect(!cluster.nodes[0].membership.isVoter(1))
    cluster.cutOff = []
    cluster.tick(300)
    #expect(!cluster.leaders.isEmpty)
    #expect(!cluster.leaders.contains(1))
    let running = cluster.nodes.filter { $0.id != 2 }
    #expect(running.allSatisfy { $0.membership == Membership(voters: [2, 3, 4]) })
    let commits = running.map(\.status.hardState.commit)
    let removalIndex = cluster.nodes[0].status.membershipIndex
    #expect(commits.allSatisfy { $0 >= removalIndex }, "\(commits), removal at \(removalIndex)")
  }
}

/// A handful of cores on in-memory storage with instant, reliable delivery, except to nodes
/// that are down or cut off.
private struct MiniCluster {
  var nodes: [RaftNode<MemoryRaftStorage>] = []
  var storages: [MemoryRaftStorage] = []
  var down: Set<PeerID> = []
  var cutOff: Set<PeerID> = []

  init(voters: [PeerID]) throws {
    for id in voters {
      let storage = MemoryRaftStorage(membership: Membership(voters: voters))
      storages.append(storage)
      nodes.append(
        try RaftNode(
          configuration: RaftConfiguration(id: id), storage: storage,
          random: SplitMix64Random(seed: id.rawValue)))
    }
  }

  var leaders: [PeerID] {
    nodes.filter { !down.contains($0.id) && $0.role == .leader }.map(\.id)
  }

  mutating func with<Result>(
    _ id: PeerID, _ body: (inout RaftNode<MemoryRaftStorage>) throws(RaftError) -> Result
  ) throws(RaftError) -> Result {
    try body(&nodes[Int(id.rawValue) - 1])
  }

  /// Runs Ready cycles and delivers messages until nothing moves.
  mutating func settle() {
    for _ in 0..<1_000 {
      var messages: [RaftMessage] = []
      for position in nodes.indices where !down.contains(nodes[position].id) {
        guard nodes[position].hasReady else { continue }
        let ready = nodes[position].ready()
        storages[position].save(ready)
        messages += ready.messages
        nodes[position].advance()
      }
      guard !messages.isEmpty else { return }
      for message in messages {
        let blocked = [message.from, message.to].contains {
          down.contains($0) || cutOff.contains($0)
        }
        if !blocked { nodes[Int(message.to.rawValue) - 1].step(message) }
      }
    }
  }

  mutating func tick(_ count: Int) {
    for _ in 0..<count {
      for position in nodes.indices where !down.contains(nodes[position].id) {
        nodes[position].tick()
      }
      settle()
    }
  }
}

