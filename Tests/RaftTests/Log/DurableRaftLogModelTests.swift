import RaftCore
import O3TestSupport
import Testing

@testable import Raft

/// The durable log against `MemoryRaftStorage`, the reference: the same random operations
/// (appends that truncate, reads, purges, snapshot installs, hard states, restarts) applied to
/// both must give the same answers to every `RaftStorage` question.
@Suite("DurableRaftLog matches MemoryRaftStorage", .watchdog, .ownThreads)
struct DurableRaftLogModelTests {
  @Test("random operation sequences give identical reads", arguments: [1, 2, 3, 4] as [UInt64])
  func randomOperations(seed: UInt64) throws {
    try withLogTestDirectory { directory in
      var model = ModelRun(seed: seed, directory: directory)
      try model.start()
      for step in 0..<400 {
        try model.step()
        try model.compare("seed \(seed) step \(step)")
      }
      #expect(model.segmentsCreated + model.durable!.statistics.segmentsCreated > 10, "segments rolled")
      #expect(model.truncationsIntoClosedSegments > 0, "truncations reached closed segments")
      #expect(model.purgesFoldingMembership > 0, "purges folded membership changes")
    }
  }
}

private struct ModelRun {
  var random: LogTestRandom
  let directory: String
  let memory = MemoryRaftStorage(
    hardState: HardState(), snapshot: SnapshotMetadata(last: .zero, membership: .empty), entries: [])
  var durable: DurableRaftLog?
  var currentTerm: UInt64 = 1
  var nextPeer: UInt64 = 1
  var segmentsCreated: UInt64 = 0
  var truncationsIntoClosedSegments = 0
  var purgesFoldingMembership = 0

  init(seed: UInt64, directory: String) {
    random = LogTestRandom(seed: seed)
    self.directory = directory
  }

  mutating func start() throws {
    durable = try DurableRaftLog.open(directory: directory, segmentSizeBytes: 256, logger: silentLogTestLogger)
  }

  mutating func step() throws {
    let choice = Int.random(in: 0..<100, using: &random)
    guard choice < 88 else { return try restart() }
    let log = durable!
    switch choice {
    case 0..<55:
      let entries = randomEntries()
      let closedBefore = log.closedSegmentCount
      memory.append(entries)
      try log.append(entries)
      if entries[0].index <= memory.lastIndex, log.closedSegmentCount < closedBefore {
        truncationsIntoClosedSegments += 1
      }
    case 55..<65:
      let hardState = HardState(
        term: currentTerm, vote: Bool.random(using: &random) ? PeerID(3) : nil,
        commit: UInt64.random(in: memory.hardState.commit...memory.lastIndex, using: &random))
      memory.setHardState(hardState)
      log.setHardState(hardState)
    case 65..<75:
      // Like the runtime, purge only what is committed (applied).
      let index = UInt64.random(in: memory.snapshot.last.index...memory.hardState.commit, using: &random)
      try log.purge(through: index)
      let purgedTo = log.snapshot.last.index
      #expect(purgedTo <= max(index, memory.snapshot.last.index), "purge stays at or below \(index)")
      if purgedTo > memory.snapshot.last.index {
        let learnersBefore = memory.snapshot.membership.learners
        memory.compact(through: purgedTo)
        if memory.snapshot.membership.learners != learnersBefore { purgesFoldingMembership += 1 }
      }
    case 75..<77:
      let last = TermIndex(
        term: currentTerm,
        index: memory.snapshot.last.index + UInt64.random(in: 0...memory.lastIndex - memory.snapshot.last.index + 3, using: &random))
      let metadata = SnapshotMetadata(last: last, membership: Membership(voters: [PeerID(nextPeer)]))
      nextPeer += 1
      memory.applySnapshot(metadata)
      try log.installSnapshot(metadata)
      let hardState = HardState(term: currentTerm, vote: nil, commit: last.index)
      memory.setHardState(hardState)
      log.setHardState(hardState)
    default:
      try log.sync()
      #expect(log.durableLastIndex == log.lastIndex)
    }
  }

  /// Syncs, drops the log (releasing its directory lock) and opens it again.
  private mutating func restart() throws {
    try durable!.sync()
    segmentsCreated += durable!.statistics.segmentsCreated
    durable = nil
    try start()
  }

  /// Entries starting right after the last (half the time) or anywhere from a little below the
  /// first index.
  /// As from a Raft leader, those at or below the commit index repeat the log (below the first
  /// index they are skipped anyway); the others are in a term no lower than any in the log,
  /// and some are membership changes adding fresh learners (valid whatever prefix of them
  /// survives truncation).
  private mutating func randomEntries() -> [LogEntry] {
    if Int.random(in: 0..<4, using: &random) == 0 { currentTerm += 1 }
    let lowest = memory.firstIndex > 3 ? memory.firstIndex - 3 : 1
    let start =
      Bool.random(using: &random)
      ? memory.lastIndex + 1 : UInt64.random(in: lowest...memory.lastIndex + 1, using: &random)
    // Reaching past the commit index, since a log never loses a committed entry.
    let committedAhead = start <= memory.hardState.commit ? Int(memory.hardState.commit - start) + 1 : 0
    return (0..<max(Int.random(in: 1...6, using: &random), committedAhead)).map { offset in
      let index = start + UInt64(offset)
      if index < memory.firstIndex { return LogEntry(term: 1, index: index) }
      if index <= memory.hardState.commit {
        return try! memory.entries(in: index..<index + 1, payloadBytesMax: .max)[0]
      }
      if Int.random(in: 0..<10, using: &random) == 0 {
        defer { nextPeer += 1 }
        let change = MembershipChange(.addLearner, peer: PeerID(nextPeer))
        return LogEntry(term: currentTerm, index: index, kind: .membershipChange, data: change.encoded())
      }
      let data = (0..<Int.random(in: 0...40, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
      return LogEntry(term: currentTerm, index: index, data: data)
    }
  }

  mutating func compare(_ context: String) throws {
    let log = durable!
    #expect(log.firstIndex == memory.firstIndex, "\(context)")
    #expect(log.lastIndex == memory.lastIndex, "\(context)")
    #expect(log.snapshot == memory.snapshot, "\(context)")
    // The commit index is not made durable on its own (it is volatile in Raft), so after a
    // restart the log may report an older one; term and vote must be exact.
    #expect(log.hardState.term == memory.hardState.term, "\(context)")
    #expect(log.hardState.vote == memory.hardState.vote, "\(context)")
    #expect(log.hardState.commit <= memory.hardState.commit, "\(context)")
    let low = memory.firstIndex > 3 ? memory.firstIndex - 3 : 0
    for index in low...memory.lastIndex + 3 {
      #expect(
        outcome { () throws(RaftStorageError) in try log.term(at: index) }
          == outcome { () throws(RaftStorageError) in try memory.term(at: index) },
        "\(context) term(at: \(index))")
    }
    for _ in 0..<8 {
      let lower = UInt64.random(in: low...memory.lastIndex + 2, using: &random)
      let upper = UInt64.random(in: lower...memory.lastIndex + 3, using: &random)
      let limit = [0, 1, 20, 60, 200, Int.max].randomElement(using: &random)!
      #expect(
        outcome { () throws(RaftStorageError) in try log.entries(in: lower..<upper, payloadBytesMax: limit) }
          == outcome { () throws(RaftStorageError) in try memory.entries(in: lower..<upper, payloadBytesMax: limit) },
        "\(context) entries(in: \(lower)..<\(upper), payloadBytesMax: \(limit))")
    }
  }
}

/// A read's value, or its error code (the messages may differ).
private enum Outcome<Value: Equatable>: Equatable {
  case value(Value)
  case failure(RaftStorageError.Code)
}

private func outcome<Value: Equatable>(_ read: () throws(RaftStorageError) -> Value) -> Outcome<Value> {
  do {
    return .value(try read())
  } catch {
    return .failure(error.code)
  }
}

extension DurableRaftLog {
  fileprivate var closedSegmentCount: Int { state.withLock { $0.segments.filter { !$0.isOpen }.count } }
}
