import O3RPC
import OMMetadata
import OMProto
import Prometheus
import Raft
import Synchronization

/// The Ozone Manager's metrics: swift-prometheus counters, gauges and histograms in one
/// `PrometheusCollectorRegistry`, which `/prom` renders.
///
/// Counters and histograms are fed by hooks on the paths that do the work (requests, log syncs,
/// apply batches, double-buffer flushes); gauges are set from a `Sample` when the page is
/// scraped. Each OM server owns one registry, so OMs sharing a process (tests) never mix their
/// numbers.
public final class OMMetrics: Sendable {
  /// Every metric of this OM.
  public let registry: PrometheusCollectorRegistry
  let logSyncDuration: ValueHistogram
  let applyDuration: ValueHistogram
  let applyBatchEntries: ValueHistogram
  let flushBatchTransactions: ValueHistogram
  /// Checkpoints this OM installed from a leader, the one under way, and the failures by reason.
  public let checkpointInstall: OMCheckpointInstallMetrics

  /// The series of `o3_om_requests_total` met so far, so that counting a request is a dictionary
  /// lookup and an atomic add (the registry's own lookup sanitises label strings). Bounded: keys
  /// are known request types and statuses, or the one UNKNOWN value each.
  private let requestCounters = Mutex<[RequestKey: Counter]>([:])
  /// The last index the double buffer reported flushed, to size the next batch.
  private let lastFlushedIndex: Atomic<UInt64>
  private let rpcTotals: CounterMirror
  /// The follower-lag gauge of each member the last scrape saw, by node id.
  private let followerLag = Mutex<[String: Gauge]>([:])

  /// A series of `o3_om_requests_total`: the raw values of the request type and the response
  /// status.
  public struct RequestKey: Hashable, Sendable {
    public var type: Int
    public var status: Int
  }

  static let requestsName = "o3_om_requests_total"
  static let requestsHelp = "OM client requests answered, by request type and response status."

  /// - Parameter flushedIndex: the index RocksDB held when the OM started; the first flush's
  ///   batch size is measured from it.
  public init(flushedIndex: UInt64 = 0) {
    let registry = PrometheusCollectorRegistry()
    self.registry = registry
    lastFlushedIndex = Atomic(flushedIndex)
    logSyncDuration = registry.makeValueHistogram(
      name: "o3_om_raft_log_sync_duration_seconds", buckets: Self.latencyBoundsSeconds,
      help: "Time of one fsync of the Raft log (group commit).")
    applyDuration = registry.makeValueHistogram(
      name: "o3_om_apply_duration_seconds", buckets: Self.latencyBoundsSeconds,
      help: "Time to apply one batch of committed entries to the OM state machine.")
    applyBatchEntries = registry.makeValueHistogram(
      name: "o3_om_apply_batch_entries", buckets: Self.batchSizeBounds, help: "Committed entries applied per apply batch.")
    flushBatchTransactions = registry.makeValueHistogram(
      name: "o3_om_double_buffer_flush_transactions", buckets: Self.batchSizeBounds,
      help: "Transactions written to RocksDB per double-buffer flush (one WriteBatch each).")
    checkpointInstall = OMCheckpointInstallMetrics(registry: registry)
    rpcTotals = CounterMirror(registry: registry)
    // The series of requests this build cannot name exists from the start (at 0), so that the
    // family is on the page before the first request, as an alert on it expects.
    _ = requestCounter(RequestKey(type: Self.unknownValue, status: Self.unknownValue))
  }

  /// Latency bounds in seconds, 100 µs to 10 s: an fsync, an apply batch, a request. Every OM
  /// uses the same bounds, so that their histograms aggregate.
  static let latencyBoundsSeconds: [Double] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
  ]

  /// Size bounds, powers of two from 1 to 16384: entries or transactions per batch.
  static let batchSizeBounds: [Double] = (0...14).map { Double(1 << $0) }

  // MARK: hooks

  /// Counts one response sent to a client.
  public func requestCompleted(type: CommandType, status: Status) {
    // Values this build does not know share one series each, whatever their number.
    let typeValue = if case .UNRECOGNIZED = type { Self.unknownValue } else { type.rawValue }
    let statusValue = if case .UNRECOGNIZED = status { Self.unknownValue } else { status.rawValue }
    requestCounter(RequestKey(type: typeValue, status: statusValue)).increment()
  }

  private func requestCounter(_ key: RequestKey) -> Counter {
    if let counter = requestCounters.withLock({ $0[key] }) { return counter }
    let counter = registry.makeCounter(
      name: Self.requestsName, labels: [("type", Self.typeName(key.type)), ("status", Self.statusName(key.status))],
      help: Self.requestsHelp)
    return requestCounters.withLock { counters in
      if let existing = counters[key] { return existing }
      counters[key] = counter
      return counter
    }
  }

  private static let unknownValue = -1

  /// Records one fsync of the Raft log.
  public func observeLogSync(seconds: Double) {
    logSyncDuration.record(seconds)
  }

  /// Records one apply batch.
  public func observeApply(seconds: Double, entries: Int) {
    applyDuration.record(seconds)
    applyBatchEntries.record(Double(entries))
  }

  /// Records a double-buffer flush that made RocksDB hold everything through `index`. Every
  /// log entry passes through the double buffer, so the batch held `index - previous` of them.
  public func observeFlush(through index: UInt64) {
    let previous = lastFlushedIndex.exchange(index, ordering: .relaxed)
    if index > previous { flushBatchTransactions.record(Double(index - previous)) }
  }

  // MARK: page

  /// Everything sampled at scrape time.
  struct Sample {
    var status: OMNodeStatus?
    var blockedApplies: Int
    var rpc: RPCServerStatistics
    var raftLog: RaftLogDiskUsage
    var lastSnapshotIndex: UInt64
    /// Rows each table cache holds (`OMMetadataStore.cacheEntryCounts`).
    var tableCacheEntries: [(table: OMTableName, entries: Int)] = []
    /// Row changes the double buffer holds, queued or being written.
    var doubleBufferPendingEntries = 0
    /// Answers and in-flight writes the retry cache holds.
    var retryCacheEntries = 0
  }

  /// Sets the gauges from a sample; `/prom` renders the registry right after.
  func update(_ sample: Sample) {
    if let status = sample.status {
      OMMetricsSample.setRaft(status, in: registry)
      publishFollowerLag(status.peers)
    }
    gauge("o3_om_double_buffer_blocked_applies", "Applies waiting because too many transactions are unflushed.")
      .set(Double(sample.blockedApplies))
    OMMetricsSample.setMemory(sample, in: registry)
    gauge("o3_om_raft_log_bytes", "Bytes of the Raft log's segment files.").set(Double(sample.raftLog.bytes))
    gauge("o3_om_raft_log_segments", "Segment files of the Raft log.").set(Double(sample.raftLog.segments))
    gauge("o3_om_raft_last_snapshot_index", "The log index of the last snapshot; the log is purged behind it.")
      .set(Double(sample.lastSnapshotIndex))
    OMMetricsSample.setRPC(sample.rpc, mirror: rpcTotals)
  }

  /// One lag gauge per member the leader tracks. A member no longer tracked (removed, or this
  /// OM no longer leads) loses its series rather than keeping its last lag.
  private func publishFollowerLag(_ peers: [OMPeerStatus]) {
    followerLag.withLock { gauges in
      var current: [String: Gauge] = [:]
      for peer in peers {
        let gauge =
          gauges[peer.nodeId]
          ?? registry.makeGauge(
            name: "o3_om_raft_follower_lag_entries", labels: [("node", peer.nodeId)],
            help: "Log entries the leader holds that a member does not.")
        gauge.set(Double(peer.lag))
        current[peer.nodeId] = gauge
      }
      for (node, gauge) in gauges where current[node] == nil { registry.unregisterGauge(gauge) }
      gauges = current
    }
  }

  private func gauge(_ name: String, _ help: String) -> Gauge {
    registry.makeGauge(name: name, help: help)
  }

  /// Ozone's command name (`CreateVolume`) for a raw request type.
  static func typeName(_ rawValue: Int) -> String {
    guard rawValue != unknownValue, let type = CommandType(rawValue: rawValue) else { return "UNKNOWN" }
    let name = String(describing: type)
    return name.prefix(1).uppercased() + name.dropFirst()
  }

  /// Ozone's status name (`VOLUME_NOT_FOUND`) for a raw status.
  static func statusName(_ rawValue: Int) -> String {
    guard rawValue != unknownValue, let status = Status(rawValue: rawValue) else { return "UNKNOWN" }
    return status.ozoneName
  }
}
