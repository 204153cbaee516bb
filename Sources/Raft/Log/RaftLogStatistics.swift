/// Counters of a ``DurableRaftLog`` since it was opened, for metrics and benchmarks.
public struct RaftLogStatistics: Hashable, Sendable {
  /// Bytes written to segment files (headers and records; not metadata files).
  public var bytesWritten: UInt64 = 0
  /// Every `fsync` issued: segment files, the directory, metadata temp files.
  public var fsyncCalls: UInt64 = 0
  /// Calls of ``DurableRaftLog/sync()``.
  public var syncs: UInt64 = 0
  /// Replacements of the hard-state file.
  public var hardStateWrites: UInt64 = 0
  public var segmentsCreated: UInt64 = 0
  public var segmentsDeleted: UInt64 = 0
  /// Entries read from segment files because they were no longer in the tail cache.
  public var entriesReadFromFiles: UInt64 = 0
  /// Appends whose write failed (a full disk) and were undone.
  public var appendsRolledBack: UInt64 = 0
  /// Bytes of a torn record cut off the tail of the log when it was opened.
  public var tornBytesRemovedOnOpen: Int = 0

  public init() {}
}
