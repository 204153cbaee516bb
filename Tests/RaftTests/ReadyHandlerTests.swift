import RaftCore
import O3TestSupport
import Testing

@testable import Raft

/// The Ready handler alone, synchronously, through recording seams: the order RaftCore's
/// durability contract asks for (persist, sync, only then send; apply; advance), a sync that
/// ends later (the simulator's), and a full-disk stall (the runtime's).
@Suite(.watchdog) struct ReadyHandlerTests {
  static let group = Membership(voters: [PeerID(1), PeerID(2), PeerID(3)])

  /// A vote is a promise (Raft paper §5.2): the granted vote leaves only once the hard state
  /// recording it is synced.
  @Test func aGrantedVoteLeavesOnlyAfterItsHardStateIsSynced() throws {
    let seams = RecordingSeams()
    let handler = try Self.handler(seams)
    handler.node.step(Self.voteRequest(term: 2))
    #expect(handler.pumpReady())
    #expect(seams.events == ["hardState t2 vote 2", "sync", "send voteResponse(granted: true)", "apply [1, 2, 3]"])
    #expect(handler.isIdle && !handler.node.hasReady, "the core advanced")
  }

  /// A sync that ends later (the simulator's virtual fsync) holds the messages and the next
  /// Ready until it ends.
  @Test func aPendingSyncHoldsTheMessagesUntilItEnds() throws {
    let seams = RecordingSeams()
    seams.syncAnswer = .pending
    let handler = try Self.handler(seams)
    handler.node.step(Self.voteRequest(term: 2))
    #expect(handler.pumpReady())
    #expect(seams.events == ["hardState t2 vote 2", "sync"])
    #expect(!handler.isIdle && !handler.pumpReady(), "one Ready at a time")
    handler.syncFinished(nil)
    #expect(seams.events.suffix(2) == ["send voteResponse(granted: true)", "apply [1, 2, 3]"])
    #expect(handler.isIdle)
  }

  /// A full disk keeps the Ready (nothing sent, requests refused) and persists it again from
  /// the failed step once the backoff's ticks have passed.
  @Test func aFullDiskStallsTheReadyUntilARetrySucceeds() throws {
    let seams = RecordingSeams()
    seams.failWrites = true
    let handler = try Self.handler(seams, tickMilliseconds: 50)
    handler.node.step(Self.voteRequest(term: 2))
    #expect(handler.pumpReady())
    #expect(seams.events.isEmpty && handler.refusesRequests && !handler.pumpReady())
    seams.failWrites = false
    handler.tick()
    #expect(seams.events.isEmpty, "the first retry waits 100 ms, two ticks")
    handler.tick()
    #expect(seams.events == ["hardState t2 vote 2", "sync", "send voteResponse(granted: true)", "apply [1, 2, 3]"])
    #expect(handler.isIdle && !handler.refusesRequests)
    #expect(handler.statistics.snapshot.persistAttemptsFailed == 1)
  }

  /// The core takes a checkpoint install only between Readies; one that ends during a stall
  /// reaches it once the stalled Ready is persisted and advanced.
  @Test func aCheckpointInstalledDuringAStallReachesTheCoreAfterAdvance() throws {
    let seams = RecordingSeams()
    let handler = try Self.handler(seams, tickMilliseconds: 100)
    let compaction = TermIndex(term: 1, index: 10)
    let notice = SnapshotNoticeRequest(
      leaderSnapshot: compaction, membershipHistory: [MembershipRecord(index: 10, membership: Self.group)])
    handler.node.step(RaftMessage(from: PeerID(2), to: PeerID(1), term: 1, body: .snapshotNotice(notice)))
    handler.pumpReady()
    #expect(seams.events.contains("install from 2"))
    // A transfer's vote, which a follower that hears from its leader does not ignore.
    handler.node.step(Self.voteRequest(term: 2, from: PeerID(3), leadershipTransfer: true))
    seams.failWrites = true
    seams.events = []
    handler.pumpReady()
    #expect(handler.refusesRequests)
    #expect(handler.snapshotInstalled(InstalledCheckpoint(position: compaction, membership: Self.group)) == nil)
    seams.failWrites = false
    handler.tick()
    #expect(handler.isIdle)
    handler.pumpReady()
    #expect(seams.events.contains { $0.hasPrefix("installSnapshot") }, "the log restarts after the checkpoint")
  }

  static func handler(_ seams: RecordingSeams, tickMilliseconds: Int = 100) throws -> ReadyHandler<MemoryRaftStorage> {
    let node = try RaftNode(
      configuration: RaftConfiguration(id: PeerID(1)), storage: MemoryRaftStorage(membership: group),
      random: SplitMix64Random(seed: 1))
    return ReadyHandler(node: node, log: seams, transport: seams, handOff: seams, tickMilliseconds: tickMilliseconds)
  }

  /// A vote request from a candidate whose log matches the bootstrap log (three entries, term 1).
  static func voteRequest(term: UInt64, from: PeerID = PeerID(2), leadershipTransfer: Bool = false) -> RaftMessage {
    let lastLog = TermIndex(term: 1, index: 3)
    return RaftMessage(
      from: from, to: PeerID(1), term: term, body: .vote(lastLog: lastLog, leadershipTransfer: leadershipTransfer))
  }
}

/// Seams that record what the handler asks of them, and fail writes on demand as a full disk.
final class RecordingSeams: ReadyLog, ReadyTransport, ReadyHandOff {
  var events: [String] = []
  var syncAnswer = ReadyLogSync.durable
  var failWrites = false

  private func write(_ event: String) throws {
    if failWrites { throw RaftLogError(.noSpace, "No space left on device", file: "/log/segment") }
    events.append(event)
  }

  func installSnapshot(_ metadata: SnapshotMetadata) throws { try write("installSnapshot \(metadata.last)") }
  func append(_ entries: [LogEntry]) throws { try write("append \(entries.map(\.index))") }
  func setHardState(_ state: HardState) throws {
    try write("hardState t\(state.term) vote \(state.vote.map(\.description) ?? "none")")
  }
  func sync() throws -> ReadyLogSync {
    try write("sync")
    return syncAnswer
  }
  func send(_ messages: [RaftMessage]) { events += messages.map { "send \($0.body)" } }
  func setAddress(_ address: String, of peer: PeerID) {}
  func roleChanged(to softState: SoftState, from previous: SoftState?, term: UInt64) {}
  func logRestarted(at position: TermIndex) {}
  func apply(_ entries: [LogEntry]) { events.append("apply \(entries.map(\.index))") }
  func readsConfirmed(_ states: [ReadState]) {}
  func installSnapshot(_ notice: SnapshotNotice) { events.append("install from \(notice.leader)") }
  func persistFailed(_ cause: Error) { events.append("failed") }
}
