import RaftCore
import O3TestSupport
import Testing

@testable import RaftSimulation

/// The simulated disk: what survives a crash is the synced part plus a byte prefix of the
/// rest, and recovery keeps exactly the whole frames of that prefix.
@Suite(.watchdog, .ownThreads) struct SimulatedDiskTests {
  static let membership = Membership(voters: [1, 2, 3])

  static func entry(_ term: UInt64, _ index: UInt64, _ text: String) -> LogEntry {
    LogEntry(term: term, index: index, data: Array(text.utf8))
  }

  static var records: [DiskRecord] {
    [
      .entry(entry(2, 4, "alpha")), .entry(entry(2, 5, "")),
      .hardState(HardState(term: 2, vote: 3, commit: 4)), .compaction(through: 3),
      .snapshot(SnapshotMetadata(last: TermIndex(term: 2, index: 9), membership: membership)),
    ]
  }

  @Test func everyBytePrefixDecodesToItsWholeFrames() {
    var bytes: [UInt8] = []
    var frameEnds: [Int] = []
    for record in Self.records {
      DiskJournal.appendFrame(record, to: &bytes)
      frameEnds.append(bytes.count)
    }
    for cut in 0...bytes.count {
      let whole = frameEnds.filter { $0 <= cut }.count
      let (decoded, torn) = DiskJournal.decodeFrames(bytes[..<cut])
      #expect(decoded == Array(Self.records.prefix(whole)), "cut at \(cut)")
      #expect(torn == !(cut == 0 || frameEnds.contains(cut)), "cut at \(cut)")
    }
  }

  @Test func aCorruptedByteEndsTheJournalThere() {
    var bytes: [UInt8] = []
    for record in Self.records { DiskJournal.appendFrame(record, to: &bytes) }
    var firstFrame: [UInt8] = []
    DiskJournal.appendFrame(Self.records[0], to: &firstFrame)
    bytes[firstFrame.count + 6] ^= 0x40
    let (decoded, torn) = DiskJournal.decodeFrames(bytes[...])
    #expect(decoded == [Self.records[0]])
    #expect(torn)
  }

  @Test func syncedWritesSurviveEveryCrash() {
    for seed in UInt64(0)..<40 {
      var random = SimulationRandom(seed: seed)
      var disk = SimulatedDisk(membership: Self.membership)
      let bootstrapLast = disk.live.lastIndex
      disk.write(.entry(Self.entry(2, bootstrapLast + 1, "synced")))
      disk.write(.hardState(HardState(term: 2, vote: 1, commit: bootstrapLast)))
      disk.sync()
      disk.write(.entry(Self.entry(2, bootstrapLast + 2, "maybe")))
      disk.write(.hardState(HardState(term: 3, vote: nil, commit: bootstrapLast + 1)))
      let outcome = disk.crash(random: &random)
      #expect(disk.live.lastIndex >= bootstrapLast + 1)
      #expect(disk.live.hardState.term >= 2)
      #expect(disk.durable.lastIndex == disk.live.lastIndex)
      #expect(!disk.hasUnsyncedWrites)
      let keptSecondEntry = disk.live.lastIndex == bootstrapLast + 2
      #expect(keptSecondEntry == (outcome.keptRecords >= 1))
      #expect(disk.live.hardState.term == (outcome.keptRecords == 2 ? 3 : 2))
    }
  }

  @Test func crashesSometimesTearTheLastFrame() {
    var outcomes: [SimulatedDisk.CrashOutcome] = []
    for seed in UInt64(0)..<60 {
      var random = SimulationRandom(seed: seed)
      var disk = SimulatedDisk(membership: Self.membership)
      let next = disk.live.lastIndex + 1
      for offset in 0..<4 {
        disk.write(.entry(Self.entry(2, next + UInt64(offset), "payload \(offset)")))
      }
      outcomes.append(disk.crash(random: &random))
    }
    #expect(outcomes.contains { $0.keptBytes == 0 })
    #expect(outcomes.contains { $0.keptBytes == $0.unsyncedBytes && $0.keptRecords == 4 })
    #expect(outcomes.contains { $0.tornFrameDropped })
  }

  /// A follower that installed a checkpoint and crashed before its new log start was synced.
  @Test func restartReconcilesALogOlderThanTheCheckpoint() {
    var disk = SimulatedDisk(membership: Self.membership)
    let checkpoint = StateMachineCheckpoint(
      applied: TermIndex(term: 4, index: 50), values: ["k": "v"], membership: Self.membership,
      digest: 7)
    disk.saveCheckpoint(checkpoint)
    let reconciled = disk.reconcileWithCheckpoint()
    #expect(reconciled)
    #expect(disk.durable.snapshot.last == checkpoint.applied)
    #expect(disk.durable.hardState.commit == 50)
    #expect(disk.durable.hardState.term == 4)
    #expect(disk.live.lastIndex == 50)
    let reconciledAgain = disk.reconcileWithCheckpoint()
    #expect(!reconciledAgain)
  }

  @Test func restartKeepsALogThatHoldsTheCheckpointEntry() {
    var disk = SimulatedDisk(membership: Self.membership)
    let last = disk.live.lastIndex
    disk.write(.entry(Self.entry(2, last + 1, "a")))
    disk.write(.entry(Self.entry(2, last + 2, "b")))
    disk.sync()
    disk.saveCheckpoint(
      StateMachineCheckpoint(
        applied: TermIndex(term: 2, index: last + 1), values: [:], membership: Self.membership,
        digest: 0))
    let reconciled = disk.reconcileWithCheckpoint()
    #expect(reconciled)
    #expect(disk.durable.lastIndex == last + 2)
    #expect(disk.durable.snapshot.last.index == 0)
    #expect(disk.durable.hardState.commit == last + 1)
  }
}
