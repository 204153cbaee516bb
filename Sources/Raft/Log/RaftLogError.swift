/// Why the durable log refused to open or to write: a code a program can switch on and a
/// message a person can act on, naming the file and byte offset involved when there is one.
///
/// Every error from the log but ``Code/noSpace`` is fatal to the replica: the runtime stops
/// rather than vote or acknowledge with a log it cannot trust.
public struct RaftLogError: Error, Hashable, Sendable, CustomStringConvertible {
  /// The kind of failure.
  public enum Code: String, Hashable, Sendable {
    /// A record or segment header failed its checksum or framing somewhere other than a torn
    /// tail: the data was written and later damaged. Restore this replica from a peer.
    case corruptRecord
    /// Segments or records do not follow each other: a missing segment (gap), two segments
    /// holding the same index (overlap), an index out of order, a term going backwards, or a
    /// closed segment holding a different number of entries than its name says.
    case discontinuity
    /// The hard-state or compaction-point file is damaged or from an unknown format.
    case corruptMetadata
    /// The files disagree with each other, for example a persisted commit index past the
    /// last entry on disk.
    case inconsistentState
    /// An entry's payload is larger than ``DurableRaftLog/entryDataBytesMax``.
    case entryTooLarge
    /// A system call on a log file or the log directory failed (I/O error, failed fsync, ...).
    case ioFailure
    /// A write found the file system full (ENOSPC) or the quota used up (EDQUOT). The failed
    /// call left the log as it was before the call (a partial write is cut off again), so the
    /// same call may be repeated once space returns. A failed fsync is never this code: after
    /// one, the kernel may have dropped the unwritten pages, so a retry proves nothing.
    case noSpace
    /// Another process or ``DurableRaftLog`` instance holds the log directory's lock.
    case directoryInUse
  }

  public var code: Code
  public var message: String
  /// The file involved, when there is one.
  public var file: String?
  /// The byte offset in `file` where the problem was found, when it is about a record.
  public var offset: Int?

  public init(_ code: Code, _ message: String, file: String? = nil, offset: Int? = nil) {
    self.code = code
    self.message = message
    self.file = file
    self.offset = offset
  }

  public var description: String {
    var text = "\(code.rawValue): \(message)"
    if let file { text += " [file \(file)" + (offset.map { " offset \($0)" } ?? "") + "]" }
    return text
  }
}
