#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif
import Logging
import RaftCore
import Synchronization

/// The Raft log on disk (DESIGN.md §5): segment files of checksummed records, and the hard
/// state and compaction point in small files replaced atomically.
///
/// Layout of `directory`: `log_inprogress_<first>` (the open segment, at most one, last),
/// `log_<first>-<last>` (closed segments), `raft-hard-state`, `raft-compaction-point`,
/// `raft-log.lock`. Formats: ``SegmentFormat`` and ``MetadataFiles``. A segment is closed
/// (fsync'd, renamed) and the next one opened when a record would take it past
/// `segmentSizeBytes` (`ozone.om.ratis.segment.size`).
///
/// Semantics match `MemoryRaftStorage` exactly (reads, errors, payload limits, truncation of a
/// conflicting suffix, snapshot install), with durability spelled out: ``append(_:)`` writes,
/// ``sync()`` makes the appended entries durable and then writes the latest hard state, so a
/// hard state is never durable before the entries it commits (etcd's order). Compaction is by
/// whole segments (``purge(through:)``), and ``open(directory:segmentSizeBytes:logger:)``
/// verifies every record (``LogRecovery``).
///
/// Threads: the Raft loop reads through ``RaftStorage`` while a writer thread appends. Writes
/// are serialised by a writer lock held for their whole duration (fsyncs included); readers
/// take only a state lock, which writers hold just long enough to publish a change, so a read
/// never waits for an fsync. Lock order: writer, then state.
public final class DurableRaftLog: RaftStorage, Sendable {
  /// The bound on one entry's data, so that a record length is sane and a read is bounded.
  public static let entryDataBytesMax = 64 << 20
  /// The bounds of the in-memory copy of the newest entries (the leader re-reads its tail to
  /// replicate it).
  public static let tailCacheEntriesMax = 4096
  public static let tailCacheBytesMax = 16 << 20
  /// The smallest segment size accepted (tests use tiny segments to roll often).
  public static let segmentSizeBytesMin = 64

  public let directory: String
  /// Roll the open segment when the next record would make it larger than this.
  public let segmentSizeBytes: Int
  let logger: Logger
  let state: Mutex<LogState>
  let writer: Mutex<WriterState>
  /// Failures tests inject into this log's writes (a full disk); never armed in production.
  let writeFaults = LogWriteFaults()
  private let lockDescriptor: Int32
  private let isClosed = Atomic<Bool>(false)

  /// Opens the log in `directory`, creating the directory when it is missing. A new log is
  /// empty (first index 1, last index 0, hard state zero); the runtime writes the
  /// `BootstrapLog` itself. Throws when the files cannot be trusted (see ``LogRecovery``).
  public static func open(directory: String, segmentSizeBytes: Int = 64 << 20, logger: Logger)
    throws(RaftLogError) -> DurableRaftLog
  {
    precondition(segmentSizeBytes >= segmentSizeBytesMin, "segment size below \(segmentSizeBytesMin)")
    let recovery = LogRecovery(directory: directory, logger: logger)
    try recovery.prepareDirectory()
    let lockDescriptor = try lockDirectory(directory)
    let recovered: RecoveredLog
    do {
      recovered = try recovery.run()
    } catch {
      _ = posixClose(lockDescriptor)
      throw error
    }
    return DurableRaftLog(
      directory: directory, segmentSizeBytes: segmentSizeBytes, logger: logger,
      lockDescriptor: lockDescriptor, recovered: recovered)
  }

  private init(
    directory: String, segmentSizeBytes: Int, logger: Logger, lockDescriptor: Int32,
    recovered: RecoveredLog
  ) {
    self.directory = directory
    self.segmentSizeBytes = segmentSizeBytes
    self.logger = logger
    self.lockDescriptor = lockDescriptor
    let lastIndex = recovered.segments.last?.lastIndex ?? recovered.compaction.snapshot.last.index
    var statistics = RaftLogStatistics()
    statistics.tornBytesRemovedOnOpen = recovered.tornBytesRemoved
    state = Mutex(
      LogState(
        hardState: recovered.hardState, compaction: recovered.compaction,
        segments: recovered.segments,
        cache: TailCache(entriesMax: Self.tailCacheEntriesMax, payloadBytesMax: Self.tailCacheBytesMax),
        durableLastIndex: lastIndex, statistics: statistics))
    writer = Mutex(WriterState(durableHardState: recovered.hardState))
    logger.info(
      "opened the Raft log",
      metadata: [
        "directory": "\(directory)", "firstIndex": "\(recovered.compaction.snapshot.last.index + 1)",
        "lastIndex": "\(lastIndex)", "segments": "\(recovered.segments.count)",
      ])
  }

  deinit {
    close()
  }

  /// Closes the segment files and releases the directory lock, so that the log can be opened
  /// again (a restarted replica in the same process). The log must not be used afterwards.
  public func close() {
    guard !isClosed.exchange(true, ordering: .acquiringAndReleasing) else { return }
    state.withLock { state in state.segments.forEach { $0.file.close() } }
    _ = posixClose(lockDescriptor)
  }

  // MARK: RaftStorage

  public var hardState: HardState { state.withLock { $0.hardState } }
  public var snapshot: SnapshotMetadata { state.withLock { $0.snapshot } }
  public var firstIndex: UInt64 { state.withLock { $0.firstIndex } }
  public var lastIndex: UInt64 { state.withLock { $0.lastIndex } }

  public func term(at index: UInt64) throws(RaftStorageError) -> UInt64 {
    try state.withLock { state throws(RaftStorageError) in try state.term(at: index) }
  }

  public func entries(in range: Range<UInt64>, payloadBytesMax: Int) throws(RaftStorageError)
    -> [LogEntry]
  {
    try state.withLock { state throws(RaftStorageError) in
      try state.entries(in: range, payloadBytesMax: payloadBytesMax)
    }
  }

  // MARK: Observation

  /// The last index made durable by ``sync()`` (and not truncated since).
  public var durableLastIndex: UInt64 { state.withLock { $0.durableLastIndex } }

  public var statistics: RaftLogStatistics { state.withLock { $0.statistics } }

  func path(_ name: String) -> String { directory + "/" + name }

  /// How long `open` keeps trying to take the directory lock: 100 × 20 ms.
  static let lockAttemptsMax = 100
  static let lockRetryMicroseconds: UInt32 = 20_000

  /// Takes an exclusive `flock` on `raft-log.lock`, so that a second process (or a second
  /// instance) cannot write the same log.
  private static func lockDirectory(_ directory: String) throws(RaftLogError) -> Int32 {
    let path = directory + "/raft-log.lock"
    let descriptor = posixOpen(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
    guard descriptor >= 0 else {
      throw RaftLogError(.ioFailure, "cannot open the lock file", file: path)
    }
    // A flock belongs to the open file description, which a child process forked by another
    // thread shares until its exec closes the descriptor (O_CLOEXEC): a lock released an
    // instant ago can still look taken. Retry briefly before calling the directory in use.
    for attempt in 0..<lockAttemptsMax {
      if flock(descriptor, LOCK_EX | LOCK_NB) == 0 { return descriptor }
      if attempt + 1 < lockAttemptsMax { usleep(lockRetryMicroseconds) }
    }
    _ = posixClose(descriptor)
    throw RaftLogError(.directoryInUse, "another process or instance has this log open", file: path)
  }
}

/// What only the writer (the holder of the writer lock) needs.
struct WriterState: Sendable {
  /// The open segment has writes not yet fsync'd.
  var openSegmentDirty = false
  /// Segments were created or renamed since the directory was last fsync'd.
  var directoryDirty = false
  var durableHardState: HardState
  /// The hard state to write after the entries at the next ``DurableRaftLog/sync()``.
  var pendingHardState: HardState?

  init(durableHardState: HardState) {
    self.durableHardState = durableHardState
  }
}
