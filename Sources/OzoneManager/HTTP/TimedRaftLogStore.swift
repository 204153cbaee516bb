import Raft
import RaftCore

/// The OM's Raft log with each fsync timed into `OMMetrics.logSyncDuration`.
///
/// A decorator rather than a hook inside the Raft runtime, which must not know the OM's metrics;
/// the extra indirection is nothing next to an fsync.
final class TimedRaftLogStore: RaftLogStore {
  private let base: any RaftLogStore
  private let metrics: OMMetrics

  init(_ base: any RaftLogStore, metrics: OMMetrics) {
    self.base = base
    self.metrics = metrics
  }

  func sync() throws {
    let start = ContinuousClock.now
    try base.sync()
    metrics.observeLogSync(seconds: (ContinuousClock.now - start).seconds)
  }

  var hardState: HardState { base.hardState }
  var snapshot: SnapshotMetadata { base.snapshot }
  var firstIndex: UInt64 { base.firstIndex }
  var lastIndex: UInt64 { base.lastIndex }

  func term(at index: UInt64) throws(RaftStorageError) -> UInt64 { try base.term(at: index) }

  func entries(in range: Range<UInt64>, payloadBytesMax: Int) throws(RaftStorageError) -> [LogEntry] {
    try base.entries(in: range, payloadBytesMax: payloadBytesMax)
  }

  func append(_ entries: [LogEntry]) throws { try base.append(entries) }
  func setHardState(_ state: HardState) throws { try base.setHardState(state) }
  func installSnapshot(_ metadata: SnapshotMetadata) throws { try base.installSnapshot(metadata) }
  func purge(through index: UInt64) throws { try base.purge(through: index) }
  var diskUsage: RaftLogDiskUsage { base.diskUsage }
  func close() { base.close() }
}

extension Duration {
  /// The duration in seconds, for metrics.
  var seconds: Double {
    let (seconds, attoseconds) = components
    return Double(seconds) + Double(attoseconds) / 1e18
  }
}
