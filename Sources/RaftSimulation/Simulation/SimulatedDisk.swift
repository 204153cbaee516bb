import RaftCore

/// One node's disk: a synced part, an unsynced tail, and the state machine's checkpoint.
///
/// `live` is what the running node reads: every write, synced or not (the page cache). `durable`
/// is what survives a crash for certain: the writes an fsync covered. The unsynced writes are
/// also kept as journal bytes, so that a crash can keep any byte prefix of them — nothing, all,
/// or a frame torn in the middle that recovery must detect and drop.
struct SimulatedDisk {
  /// Why a crash kept what it kept, for the trace.
  struct CrashOutcome: Equatable {
    var unsyncedBytes: Int
    var keptBytes: Int
    var keptRecords: Int
    var tornFrameDropped: Bool
  }

  private(set) var live: MemoryRaftStorage
  private(set) var durable: MemoryRaftStorage
  /// The state machine's last checkpoint; written atomically and synced, so always durable.
  private(set) var checkpoint: StateMachineCheckpoint?
  private var unsynced: [DiskRecord] = []
  private var unsyncedBytes: [UInt8] = []

  init(membership: Membership) {
    durable = MemoryRaftStorage(membership: membership)
    live = durable.copy()
  }

  var hasUnsyncedWrites: Bool { !unsynced.isEmpty }

  /// Writes what a Ready asks for, in the contract's order; nothing is durable until `sync()`.
  mutating func write(_ ready: Ready) {
    if let snapshot = ready.snapshot { write(.snapshot(snapshot)) }
    for entry in ready.entries { write(.entry(entry)) }
    if let hardState = ready.hardState { write(.hardState(hardState)) }
  }

  /// Discards the log through `index` (at most the checkpoint's index), as an unsynced write.
  mutating func compact(through index: UInt64) {
    precondition(index <= checkpoint?.applied.index ?? 0, "compaction past the checkpoint")
    guard index > live.snapshot.last.index else { return }
    write(.compaction(through: index))
  }

  mutating func write(_ record: DiskRecord) {
    record.apply(to: live)
    unsynced.append(record)
    DiskJournal.appendFrame(record, to: &unsyncedBytes)
  }

  /// fsync: every write so far becomes durable.
  mutating func sync() {
    for record in unsynced { record.apply(to: durable) }
    unsynced = []
    unsyncedBytes = []
  }

  /// Writes and syncs a checkpoint (a real one is a directory renamed into place after fsync).
  mutating func saveCheckpoint(_ newCheckpoint: StateMachineCheckpoint) {
    precondition(
      newCheckpoint.applied.index >= checkpoint?.applied.index ?? 0, "checkpoint went backwards")
    checkpoint = newCheckpoint
  }

  /// Power loss: the unsynced tail survives only as a byte prefix chosen by `random`, and
  /// recovery replays the whole frames of that prefix onto the durable state.
  mutating func crash(random: inout SimulationRandom) -> CrashOutcome {
    let total = unsyncedBytes.count
    let kept: Int
    switch random.below(5) {
    case 0, 1: kept = 0
    case 2: kept = total
    default: kept = total == 0 ? 0 : random.integer(in: 0...total)
    }
    let (records, torn) = DiskJournal.decodeFrames(unsyncedBytes[..<kept])
    precondition(records == Array(unsynced.prefix(records.count)), "journal decoding lost a write")
    for record in records { record.apply(to: durable) }
    unsynced = []
    unsyncedBytes = []
    live = durable.copy()
    return CrashOutcome(
      unsyncedBytes: total, keptBytes: kept, keptRecords: records.count, tornFrameDropped: torn)
  }

  /// Makes the log agree with a checkpoint newer than its commit index, on restart.
  ///
  /// A follower that installed a leader's checkpoint and crashed before its log's new start was
  /// synced comes back with the checkpoint but the old log. The checkpoint holds committed
  /// state, so the commit index may rise to it; if the log does not hold the checkpoint's
  /// entry, the log restarts after the checkpoint. Both writes are synced at once.
  mutating func reconcileWithCheckpoint() -> Bool {
    guard let checkpoint, checkpoint.applied.index > live.hardState.commit else { return false }
    let held = try? live.term(at: checkpoint.applied.index)
    if held != checkpoint.applied.term {
      let start = SnapshotMetadata(last: checkpoint.applied, membership: checkpoint.membership)
      write(.snapshot(start))
    }
    var hardState = live.hardState
    hardState.commit = checkpoint.applied.index
    if hardState.term < checkpoint.applied.term {
      hardState = HardState(term: checkpoint.applied.term, vote: nil, commit: hardState.commit)
    }
    write(.hardState(hardState))
    sync()
    return true
  }
}
