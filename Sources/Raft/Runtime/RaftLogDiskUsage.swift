/// What a Raft log occupies on disk: its segment files, for metrics and the retention bound.
public struct RaftLogDiskUsage: Sendable, Hashable {
  /// Bytes of every segment file (header and records, open segment included).
  public var bytes: Int
  /// Segment files, the open one included.
  public var segments: Int

  public init(bytes: Int, segments: Int) {
    self.bytes = bytes
    self.segments = segments
  }
}

extension DurableRaftLog {
  /// The segment files' sizes as the log tracks them (no I/O); metadata files (a few hundred
  /// bytes) are left out.
  public var diskUsage: RaftLogDiskUsage {
    state.withLock { state in
      RaftLogDiskUsage(bytes: state.segments.reduce(0) { $0 + $1.endOffset }, segments: state.segments.count)
    }
  }
}
