import O3RPC
import OMMetadata
import OMProto
import Raft
import Synchronization

/// The Ozone Manager's metrics, served at `/prom` in Prometheus' text format.
///
/// Counters and histograms are fed by hooks on the paths that do the work (requests, log syncs,
/// apply batches, double-buffer flushes); gauges are sampled from the Raft status when the page
/// is scraped. Each OM server owns one instance, so OMs sharing a process (tests) never mix
/// their numbers.
public final class OMMetrics: Sendable {
  /// Responses sent to clients, by request type and status (`type` is Ozone's command name).
  public let requests = LabeledCounter<RequestKey>(
    name: "o3_om_requests_total", help: "OM client requests answered, by request type and response status.",
    labelNames: ["type", "status"], labelValues: { [OMMetrics.typeName($0.type), OMMetrics.statusName($0.status)] })
  public let logSyncDuration = MetricHistogram(
    name: "o3_om_raft_log_sync_duration_seconds", help: "Time of one fsync of the Raft log (group commit).",
    upperBounds: MetricHistogram.latencyBoundsSeconds)
  public let applyDuration = MetricHistogram(
    name: "o3_om_apply_duration_seconds", help: "Time to apply one batch of committed entries to the OM state machine.",
    upperBounds: MetricHistogram.latencyBoundsSeconds)
  public let applyBatchEntries = MetricHistogram(
    name: "o3_om_apply_batch_entries", help: "Committed entries applied per apply batch.",
    upperBounds: MetricHistogram.batchSizeBounds)
  public let flushBatchTransactions = MetricHistogram(
    name: "o3_om_double_buffer_flush_transactions",
    help: "Transactions written to RocksDB per double-buffer flush (one WriteBatch each).",
    upperBounds: MetricHistogram.batchSizeBounds)
  /// Checkpoints this OM installed from a leader, the one under way, and the failures by reason.
  public let checkpointInstall = OMCheckpointInstallMetrics()

  /// The last index the double buffer reported flushed, to size the next batch.
  private let lastFlushedIndex: Atomic<UInt64>

  /// A series of `requests`: the raw values of the request type and the response status, so that
  /// counting a request costs no string work.
  public struct RequestKey: Hashable, Sendable {
    public var type: Int
    public var status: Int
  }

  /// - Parameter flushedIndex: the index RocksDB held when the OM started; the first flush's
  ///   batch size is measured from it.
  public init(flushedIndex: UInt64 = 0) {
    lastFlushedIndex = Atomic(flushedIndex)
  }

  // MARK: hooks

  /// Counts one response sent to a client.
  public func requestCompleted(type: CommandType, status: Status) {
    // Values this build does not know share one series each, whatever their number.
    let typeValue = if case .UNRECOGNIZED = type { Self.unknownValue } else { type.rawValue }
    let statusValue = if case .UNRECOGNIZED = status { Self.unknownValue } else { status.rawValue }
    requests.increment(RequestKey(type: typeValue, status: statusValue))
  }

  private static let unknownValue = -1

  /// Records one fsync of the Raft log.
  public func observeLogSync(seconds: Double) {
    logSyncDuration.observe(seconds)
  }

  /// Records one apply batch.
  public func observeApply(seconds: Double, entries: Int) {
    applyDuration.observe(seconds)
    applyBatchEntries.observe(Double(entries))
  }

  /// Records a double-buffer flush that made RocksDB hold everything through `index`. Every
  /// log entry passes through the double buffer, so the batch held `index - previous` of them.
  public func observeFlush(through index: UInt64) {
    let previous = lastFlushedIndex.exchange(index, ordering: .relaxed)
    if index > previous { flushBatchTransactions.observe(Double(index - previous)) }
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

  /// The whole `/prom` page.
  func render(_ sample: Sample) -> String {
    var writer = PrometheusTextWriter()
    requests.render(into: &writer)
    if let status = sample.status {
      renderRaft(status, into: &writer)
    }
    logSyncDuration.render(into: &writer)
    applyDuration.render(into: &writer)
    applyBatchEntries.render(into: &writer)
    flushBatchTransactions.render(into: &writer)
    checkpointInstall.render(into: &writer)
    writer.gauge(
      "o3_om_double_buffer_blocked_applies", help: "Applies waiting because too many transactions are unflushed.",
      Double(sample.blockedApplies))
    renderMemory(sample, into: &writer)
    writer.gauge("o3_om_raft_log_bytes", help: "Bytes of the Raft log's segment files.", Double(sample.raftLog.bytes))
    writer.gauge("o3_om_raft_log_segments", help: "Segment files of the Raft log.", Double(sample.raftLog.segments))
    writer.gauge(
      "o3_om_raft_last_snapshot_index", help: "The log index of the last snapshot; the log is purged behind it.",
      Double(sample.lastSnapshotIndex))
    renderRPC(sample.rpc, into: &writer)
    return writer.text
  }

  private func renderRaft(_ status: OMNodeStatus, into writer: inout PrometheusTextWriter) {
    writer.gauge("o3_om_raft_term", help: "The current Raft term.", Double(status.term))
    writer.gauge("o3_om_raft_commit_index", help: "The highest log index known committed.", Double(status.commitIndex))
    writer.gauge("o3_om_raft_applied_index", help: "The highest log index applied to the OM state.", Double(status.appliedIndex))
    writer.gauge("o3_om_raft_last_index", help: "The last index in this OM's Raft log.", Double(status.lastIndex))
    writer.gauge("o3_om_raft_is_leader", help: "1 when this OM is the Raft leader.", status.role == .leader ? 1 : 0)
    writer.gauge(
      "o3_om_raft_leader_ready", help: "1 when this OM leads and has applied an entry of its term.", status.leaderReady ? 1 : 0)
    writer.gauge(
      "o3_om_double_buffer_flushed_index", help: "The last log index written to RocksDB.", Double(status.flushedIndex))
    writer.gauge(
      "o3_om_double_buffer_unflushed_transactions", help: "Transactions applied but not yet written to RocksDB.",
      Double(status.appliedIndex > status.flushedIndex ? status.appliedIndex - status.flushedIndex : 0))
    guard !status.peers.isEmpty else { return }
    writer.family("o3_om_raft_follower_lag_entries", .gauge, help: "Log entries the leader holds that a member does not.")
    for peer in status.peers {
      writer.sample("o3_om_raft_follower_lag_entries", labels: [("node", peer.nodeId)], Double(peer.lag))
    }
  }

  /// What the OM keeps in memory in proportion to its load: each is bounded (flushes, the
  /// unflushed-transaction limit, the retry cache's bound and expiry), and these show it.
  private func renderMemory(_ sample: Sample, into writer: inout PrometheusTextWriter) {
    writer.family(
      "o3_om_table_cache_entries", .gauge,
      help: "Rows a table's cache holds in memory, tombstones included (key tables: only what is not yet flushed).")
    for (table, entries) in sample.tableCacheEntries {
      writer.sample("o3_om_table_cache_entries", labels: [("table", table.rawValue)], Double(entries))
    }
    writer.gauge(
      "o3_om_double_buffer_pending_entries", help: "Table row changes the double buffer holds, queued or being written.",
      Double(sample.doubleBufferPendingEntries))
    writer.gauge(
      "o3_om_retry_cache_entries", help: "Write answers (and writes in flight) the retry cache holds for retried calls.",
      Double(sample.retryCacheEntries))
  }

  private func renderRPC(_ rpc: RPCServerStatistics, into writer: inout PrometheusTextWriter) {
    writer.counter(
      "o3_om_rpc_connections_accepted_total", help: "Client RPC connections accepted.", Double(rpc.connectionsAccepted))
    writer.counter(
      "o3_om_rpc_connections_refused_total", help: "Client RPC connections refused because too many were open.",
      Double(rpc.connectionsRefused))
    writer.counter(
      "o3_om_rpc_frames_malformed_total", help: "Client RPC frames that could not be parsed.", Double(rpc.framesMalformed))
    writer.counter(
      "o3_om_rpc_calls_overloaded_total", help: "Client RPC calls refused because a connection had too many outstanding.",
      Double(rpc.callsRefusedAsOverloaded))
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
