import O3RPC
import OMMetadata
import Prometheus
import Synchronization

/// The gauges `/prom` samples at scrape time from the Raft status, the OM's memory and the RPC
/// server, set into an OM's registry (`OMMetrics.update`).
enum OMMetricsSample {
  static func setRaft(_ status: OMNodeStatus, in registry: PrometheusCollectorRegistry) {
    func set(_ name: String, _ help: String, _ value: Double) { registry.makeGauge(name: name, help: help).set(value) }
    set("o3_om_raft_term", "The current Raft term.", Double(status.term))
    set("o3_om_raft_commit_index", "The highest log index known committed.", Double(status.commitIndex))
    set("o3_om_raft_applied_index", "The highest log index applied to the OM state.", Double(status.appliedIndex))
    set("o3_om_raft_last_index", "The last index in this OM's Raft log.", Double(status.lastIndex))
    set("o3_om_raft_is_leader", "1 when this OM is the Raft leader.", status.role == .leader ? 1 : 0)
    set("o3_om_raft_leader_ready", "1 when this OM leads and has applied an entry of its term.", status.leaderReady ? 1 : 0)
    set("o3_om_double_buffer_flushed_index", "The last log index written to RocksDB.", Double(status.flushedIndex))
    set(
      "o3_om_double_buffer_unflushed_transactions", "Transactions applied but not yet written to RocksDB.",
      Double(status.appliedIndex > status.flushedIndex ? status.appliedIndex - status.flushedIndex : 0))
  }

  /// What the OM keeps in memory in proportion to its load: each is bounded (flushes, the
  /// unflushed-transaction limit, the retry cache's bound and expiry), and these show it.
  static func setMemory(_ sample: OMMetrics.Sample, in registry: PrometheusCollectorRegistry) {
    for (table, entries) in sample.tableCacheEntries {
      registry.makeGauge(
        name: "o3_om_table_cache_entries", labels: [("table", table.rawValue)],
        help: "Rows a table's cache holds in memory, tombstones included (key tables: only what is not yet flushed)."
      ).set(Double(entries))
    }
    registry.makeGauge(
      name: "o3_om_double_buffer_pending_entries", help: "Table row changes the double buffer holds, queued or being written."
    ).set(Double(sample.doubleBufferPendingEntries))
    registry.makeGauge(
      name: "o3_om_retry_cache_entries",
      help: "Write answers (and writes in flight) the retry cache holds for retried calls."
    ).set(Double(sample.retryCacheEntries))
  }

  /// The RPC server's totals, which the server counts itself: each Prometheus counter is moved
  /// up by what its total grew since the last scrape (`mirror` keeps the last totals).
  static func setRPC(_ rpc: RPCServerStatistics, mirror: CounterMirror) {
    mirror.publish("o3_om_rpc_connections_accepted_total", "Client RPC connections accepted.", rpc.connectionsAccepted)
    mirror.publish(
      "o3_om_rpc_connections_refused_total", "Client RPC connections refused because too many were open.",
      rpc.connectionsRefused)
    mirror.publish("o3_om_rpc_frames_malformed_total", "Client RPC frames that could not be parsed.", rpc.framesMalformed)
    mirror.publish(
      "o3_om_rpc_calls_overloaded_total", "Client RPC calls refused because a connection had too many outstanding.",
      rpc.callsRefusedAsOverloaded)
  }
}

/// Counters whose totals another component keeps (a Prometheus counter can only go up by an
/// amount): each publish adds what the total grew since the last one.
final class CounterMirror: Sendable {
  private let registry: PrometheusCollectorRegistry
  private let lastTotals = Mutex<[String: Int]>([:])

  init(registry: PrometheusCollectorRegistry) {
    self.registry = registry
  }

  func publish(_ name: String, _ help: String, _ total: Int) {
    let counter = registry.makeCounter(name: name, help: help)
    // Under the lock, so that two scrapes at once add each increase once.
    lastTotals.withLock { last in
      let growth = total - last[name, default: 0]
      if growth > 0 {
        counter.increment(by: Int64(growth))
        last[name] = total
      }
    }
  }
}
