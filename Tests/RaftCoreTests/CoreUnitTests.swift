import O3TestSupport
import Testing

@testable import RaftCore

/// The small pieces under the core: storage ranges, the inflight ring, configuration bounds,
/// the Ready contract and determinism.
@Suite(.watchdog, .ownThreads) struct CoreUnitTests {
  private func storage(terms: [UInt64]) -> MemoryRaftStorage {
    Fixture.storage(terms: terms)
  }

  /// storage.go's range semantics: term(i) for the compaction point ... lastIndex; entries in a
  /// half-open range; `compacted` below, `unavailable` above.
  @Test func memoryStorageRangesAndErrors() throws {
    let log = storage(terms: [1, 1, 2, 3, 3])
    #expect(try log.term(at: 0) == 0)
    #expect(try log.term(at: 4) == 3)
    #expect(throws: RaftStorageError(.unavailable, "index 6 is past the last index 5")) { try log.term(at: 6) }
    #expect(try log.entries(in: 2..<5, payloadBytesMax: .max).map(\.index) == [2, 3, 4])
    #expect(try log.entries(in: 2..<5, payloadBytesMax: 0).map(\.index) == [2])
    #expect(try log.entries(in: 2..<5, payloadBytesMax: 2).map(\.index) == [2, 3])
    log.compact(through: 3)
    #expect(log.firstIndex == 4 && log.lastIndex == 5)
    #expect(try log.term(at: 3) == 2)
    #expect(throws: RaftStorageError.self) { try log.term(at: 2) }
    #expect(throws: RaftStorageError.self) { try log.entries(in: 3..<5, payloadBytesMax: .max) }
    #expect(throws: RaftStorageError.self) { try log.entries(in: 4..<7, payloadBytesMax: .max) }
  }

  /// Writing entry i discards every entry at or after i.
  @Test func memoryStorageAppendTruncatesTheConflictingTail() {
    let log = storage(terms: [1, 1, 1, 1])
    log.append([LogEntry(term: 2, index: 3)])
    #expect(log.entries.map(\.termIndex) == [
      TermIndex(term: 1, index: 1), TermIndex(term: 1, index: 2), TermIndex(term: 2, index: 3),
    ])
    log.append([LogEntry(term: 2, index: 4), LogEntry(term: 2, index: 5)])
    #expect(log.lastIndex == 5)
  }

  /// Compaction folds the membership changes it discards into the compaction point.
  @Test func compactionFoldsMembershipIntoTheSnapshot() {
    let log = MemoryRaftStorage(membership: Membership(voters: [1, 2]))
    log.append([LogEntry(term: 2, index: 3, kind: .membershipChange, data: MembershipChange(.addLearner, peer: 5).encoded())])
    log.compact(through: 3)
    #expect(log.snapshot == SnapshotMetadata(last: TermIndex(term: 2, index: 3), membership: Membership(voters: [1, 2], learners: [5])))
    #expect(log.entries.isEmpty)
  }

  /// The inflight ring keeps order across wrap-around and frees by index, bounded by count and
  /// bytes.
  @Test func inflightsRingBoundedByCountAndBytes() {
    var ring = Inflights(capacity: 3, bytesMax: 100)
    ring.add(lastIndex: 1, payloadBytes: 10)
    ring.add(lastIndex: 2, payloadBytes: 10)
    ring.free(through: 1)
    ring.add(lastIndex: 3, payloadBytes: 10)
    ring.add(lastIndex: 4, payloadBytes: 10)
    #expect(ring.isFull && ring.count == 3 && ring.bytes == 30)
    ring.free(through: 3)
    #expect(ring.count == 1 && !ring.isFull)
    ring.add(lastIndex: 5, payloadBytes: 90)
    #expect(ring.isFull && ring.bytes == 100)
    ring.free(through: 5)
    #expect(ring.count == 0 && ring.bytes == 0)
  }

  @Test(arguments: [
    { (c: inout RaftConfiguration) in c.heartbeatIntervalTicks = 0 },
    { (c: inout RaftConfiguration) in c.electionTimeoutTicks = 1 },
    { (c: inout RaftConfiguration) in c.electionTimeoutTicks = 3; c.heartbeatIntervalTicks = 3 },
    { (c: inout RaftConfiguration) in c.inflightMessagesMax = 0 },
    { (c: inout RaftConfiguration) in c.messageBytesMax = 0 },
    { (c: inout RaftConfiguration) in c.inflightBytesMax = c.messageBytesMax - 1 },
    { (c: inout RaftConfiguration) in c.uncommittedBytesMax = c.messageBytesMax - 1 },
    { (c: inout RaftConfiguration) in c.committedBytesPerReadyMax = 0 },
    { (c: inout RaftConfiguration) in c.pendingReadRequestsMax = 0 },
  ] as [@Sendable (inout RaftConfiguration) -> Void])
  func configurationOutOfBoundsIsRefused(change: @Sendable (inout RaftConfiguration) -> Void) {
    var configuration = RaftConfiguration(id: 1)
    #expect(throws: Never.self) { try configuration.validate() }
    change(&configuration)
    #expect(throws: RaftError.self) { try configuration.validate() }
    #expect(throws: RaftError.self) {
      try RaftNode(configuration: configuration, storage: MemoryRaftStorage(membership: .empty), random: SplitMix64Random(seed: 1))
    }
  }

  /// etcd#14370's lesson: a single voter reports an entry committed only once it is durable.
  @Test func singleVoterCommitsOnlyAfterPersisting() throws {
    var node = Fixture.node(storage: Fixture.storage(voters: [1]))
    node.campaign()
    let first = node.ready()
    #expect(first.entries.map(\.index) == [1])
    #expect(first.committedEntries.isEmpty)
    #expect(first.hardState?.commit == 0)
    node.storage.save(first)
    node.advance()
    let second = node.persistReady()
    #expect(second.hardState?.commit == 1)
    #expect(second.committedEntries.map(\.index) == [1])
  }

  /// A Ready overtaken by a conflicting append before `advance` is not taken as durable: its
  /// entries are offered again with the replacement, so storage ends up with the new tail.
  @Test func inputsBetweenReadyAndAdvanceAreKept() {
    var follower = Fixture.node(2, storage: Fixture.storage(terms: [1]))
    let first = AppendRequest(previous: TermIndex(term: 1, index: 1), entries: Fixture.entries([(1, 2), (1, 3)]), commit: 0)
    follower.step(Fixture.message(from: 1, to: 2, term: 1, .append(first)))
    let ready = follower.ready()
    let replacement = AppendRequest(previous: TermIndex(term: 1, index: 2), entries: Fixture.entries([(2, 3)]), commit: 0)
    follower.step(Fixture.message(from: 3, to: 2, term: 2, .append(replacement)))
    follower.storage.save(ready)
    follower.advance()
    #expect(follower.persistReady().entries.map(\.termIndex) == [TermIndex(term: 1, index: 2), TermIndex(term: 2, index: 3)])
    #expect(follower.storage.entries.map(\.term) == [1, 1, 2])
  }

  /// The Ready contract ("only then send messages"): an acknowledgement still queued when a
  /// newer leader replaces the entries it covers would leave with a Ready that persists the
  /// replacement, promising entries that never reach the disk. It is withdrawn; acknowledgements
  /// below the replaced part, and the answer to the newer leader, still go out.
  @Test func acknowledgementOfReplacedEntriesIsWithdrawn() {
    var follower = Fixture.node(2, storage: Fixture.storage(terms: [1]))
    let outstanding = follower.ready()
    let first = AppendRequest(previous: TermIndex(term: 1, index: 1), entries: Fixture.entries([(1, 2)]), commit: 0)
    let second = AppendRequest(previous: TermIndex(term: 1, index: 2), entries: Fixture.entries([(1, 3), (1, 4)]), commit: 0)
    follower.step(Fixture.message(from: 1, to: 2, term: 1, .append(first)))
    follower.step(Fixture.message(from: 1, to: 2, term: 1, .append(second)))
    let replacement = AppendRequest(previous: TermIndex(term: 1, index: 2), entries: Fixture.entries([(2, 3)]), commit: 0)
    follower.step(Fixture.message(from: 3, to: 2, term: 2, .append(replacement)))
    follower.storage.save(outstanding)
    follower.advance()
    let ready = follower.persistReady()
    #expect(ready.entries.map(\.termIndex) == [TermIndex(term: 1, index: 2), TermIndex(term: 2, index: 3)])
    #expect(ready.messages.map(\.to) == [1, 3])
    #expect(ready.messages.map(\.body) == [
      .appendResponse(AppendResponse(index: 2)), .appendResponse(AppendResponse(index: 3)),
    ])
  }

  /// One seed, one run: two clusters driven by the same seed produce the same message trace.
  @Test func sameSeedSameRun() {
    func trace(seed: UInt64) -> [String] {
      var cluster = TestCluster()
      for id in 1...3 as ClosedRange<UInt64> { cluster.addPeer(PeerID(id), membership: Membership(voters: [1, 2, 3])) }
      var random = SplitMix64Random(seed: seed)
      var lines: [String] = []
      for step in 0..<300 {
        cluster.tick()
        if random.next(upperBound: 4) == 0, let leader = cluster.leader {
          _ = try? cluster.with(leader) { node throws(RaftError) in try node.propose([UInt8(step % 256)]) }
        }
        for id in cluster.ids { if let ready = cluster.processReady(id) { lines += ready.messages.map(\.description) } }
        let doomed = cluster.inFlight.indices.filter { _ in random.next(upperBound: 5) == 0 }
        _ = cluster.take(positions: Set(doomed))
        cluster.deliverAll()
      }
      return lines
    }
    let first = trace(seed: 42)
    #expect(first.count > 100)
    #expect(first == trace(seed: 42))
    #expect(first != trace(seed: 43))
  }

  /// SplitMix64 draws stay within the bound and are fixed by the seed.
  @Test func seededRandomIsBoundedAndReproducible() {
    var first = SplitMix64Random(seed: 9)
    var second = SplitMix64Random(seed: 9)
    let draws = (0..<1000).map { _ in first.next(upperBound: 7) }
    #expect(draws == (0..<1000).map { _ in second.next(upperBound: 7) })
    #expect(Set(draws) == Set(0..<7))
  }
}
