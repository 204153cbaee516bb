/// The durable Raft state as the core reads it: hard state, compaction point and log entries.
///
/// The core only reads. The application writes what each ``Ready`` asks for (entries, hard
/// state, snapshot metadata) and compacts the log behind the applied index; the core sees those
/// writes the next time it reads. The log held is `firstIndex ... lastIndex`, where
/// `firstIndex == snapshot.last.index + 1`; an empty log has `lastIndex == firstIndex - 1`.
///
/// A storage that cannot read its own disk must stop the process (fail-stop) rather than
/// return wrong data: the only errors are the two range errors below.
public protocol RaftStorage {
  /// The hard state last persisted.
  var hardState: HardState { get }
  /// The compaction point: the log starts right after it.
  var snapshot: SnapshotMetadata { get }
  /// The index of the first entry held, `snapshot.last.index + 1`.
  var firstIndex: UInt64 { get }
  /// The index of the last entry held, or `firstIndex - 1` when the log is empty.
  var lastIndex: UInt64 { get }
  /// The term of the entry at `index`, for `snapshot.last.index ... lastIndex` (the compaction
  /// point's term is known). Throws ``RaftStorageError/Code/compacted`` below that range and
  /// ``RaftStorageError/Code/unavailable`` above it.
  func term(at index: UInt64) throws(RaftStorageError) -> UInt64
  /// The entries in `range`, in order, stopping early once their payload exceeds
  /// `payloadBytesMax` but always returning at least the first one. Throws `compacted` when
  /// `range.lowerBound < firstIndex` and `unavailable` when `range.upperBound > lastIndex + 1`.
  func entries(in range: Range<UInt64>, payloadBytesMax: Int) throws(RaftStorageError) -> [LogEntry]
}

/// A read outside the log a ``RaftStorage`` holds.
public struct RaftStorageError: Error, Hashable, Sendable, CustomStringConvertible {
  public enum Code: String, Hashable, Sendable {
    /// The index is below the compaction point; the entry is only in the state machine.
    case compacted
    /// The index is past the last entry.
    case unavailable
  }

  public var code: Code
  public var message: String

  public init(_ code: Code, _ message: String) {
    self.code = code
    self.message = message
  }

  public var description: String { "\(code.rawValue): \(message)" }
}
