import Foundation
import OMDomain
import OzoneManager
import O3TestSupport
import Testing

/// `/prom` shows what the OM holds in memory: its table caches, the double buffer and the retry
/// cache; once flushes catch up, the key tables' caches are empty again.
@Suite(.watchdog) struct MemoryMetricsTests {
  /// The value of each sample line, by its name with labels (`name{label="value"}`).
  private func scrape(_ om: RunningOM) async throws -> [String: Double] {
    let reply = try await CheckpointHTTP.fetch(port: om.server.httpPort, path: "/prom")
    var samples: [String: Double] = [:]
    for line in String(decoding: reply.body, as: UTF8.self).split(separator: "\n") where !line.hasPrefix("#") {
      let fields = line.split(separator: " ")
      if fields.count == 2, let value = Double(fields[1]) { samples[String(fields[0])] = value }
    }
    return samples
  }

  @Test func cacheGaugesCountRowsAndFlushedKeysLeaveTheCache() async throws {
    let om = try await RunningOM.start()
    let client = try await om.client()
    try await client.createVolume("vol1")
    try await client.createBucket(Requests.bucketInfo("vol1", "bucket1"))
    for index in 0..<5 { try await client.putKey("vol1", "bucket1", "key\(index)") }

    var samples: [String: Double] = [:]
    let deadline = Date().addingTimeInterval(60)
    repeat {
      samples = try await scrape(om)
      if samples["o3_om_double_buffer_pending_entries"] == 0, samples["o3_om_table_cache_entries{table=\"keyTable\"}"] == 0,
        samples["o3_om_table_cache_entries{table=\"openKeyTable\"}"] == 0
      {
        break
      }
      try await Task.sleep(for: .milliseconds(20))
    } while Date() < deadline
    #expect(samples["o3_om_table_cache_entries{table=\"keyTable\"}"] == 0, "flushed keys left the cache")
    #expect(samples["o3_om_table_cache_entries{table=\"openKeyTable\"}"] == 0, "flushed open keys left the cache")
    #expect(samples["o3_om_double_buffer_pending_entries"] == 0)
    #expect(samples["o3_om_table_cache_entries{table=\"volumeTable\"}"] == 1, "a full cache keeps its rows")
    #expect(samples["o3_om_table_cache_entries{table=\"bucketTable\"}"] == 1)
    #expect(samples["o3_om_table_cache_entries{table=\"deletedTable\"}"] == 0)
    // CreateVolume, CreateBucket, and CreateKey + CommitKey for each of five keys.
    #expect(samples["o3_om_retry_cache_entries"] == 12)
    #expect(om.fatalErrors.recorded.isEmpty)
    await client.close()
    await om.shutdown()
  }
}
