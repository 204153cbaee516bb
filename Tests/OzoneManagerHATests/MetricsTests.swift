import OMProto
import OzoneManager
import O3TestSupport
import Prometheus
import Testing

/// The OM's metrics as `/prom` renders them (swift-prometheus): what a scraper parses must be
/// exactly right.
@Suite(.watchdog) struct MetricsTests {
  @Test func histogramBucketsAreCumulativeWithSumAndCount() {
    let metrics = OMMetrics(flushedIndex: 0)
    // Flush batches of 1, 2, 4 and 64 transactions.
    for index: UInt64 in [1, 3, 7, 71] { metrics.observeFlush(through: index) }
    let page = metrics.registry.emitToString()
    let name = "o3_om_double_buffer_flush_transactions"
    #expect(page.contains("# TYPE \(name) histogram\n"))
    #expect(page.contains("\(name)_bucket{le=\"1.0\"} 1\n"))
    #expect(page.contains("\(name)_bucket{le=\"2.0\"} 2\n"))
    #expect(page.contains("\(name)_bucket{le=\"4.0\"} 3\n"))
    #expect(page.contains("\(name)_bucket{le=\"32.0\"} 3\n"))
    #expect(page.contains("\(name)_bucket{le=\"64.0\"} 4\n"))
    #expect(page.contains("\(name)_bucket{le=\"+Inf\"} 4\n"))
    #expect(page.contains("\(name)_sum 71.0\n"))
    #expect(page.contains("\(name)_count 4\n"))
  }

  @Test func labelValuesAndHelpAreEscaped() {
    let registry = PrometheusCollectorRegistry()
    registry.makeCounter(name: "x_total", labels: [("node", "a\"b\\c\nd")], help: "back\\slash\nnewline").increment(by: Int64(3))
    let page = registry.emitToString()
    #expect(page.contains("x_total{node=\"a\\\"b\\\\c\\nd\"} 3\n"))
    // One HELP line whatever the help text holds.
    #expect(page.split(separator: "\n").filter { $0.hasPrefix("# HELP x_total back\\\\slash") }.count == 1)
    #expect(page.split(separator: "\n").count == 3)
  }

  @Test func requestCounterUsesOzoneNamesAndBoundsItsSeries() {
    let metrics = OMMetrics()
    metrics.requestCompleted(type: .createVolume, status: .ok)
    metrics.requestCompleted(type: .createVolume, status: .ok)
    metrics.requestCompleted(type: .infoBucket, status: .bucketNotFound)
    // Made-up numbers from a client share one UNKNOWN series, whatever their value.
    metrics.requestCompleted(type: CommandType(rawValue: 9_999)!, status: .ok)
    metrics.requestCompleted(type: CommandType(rawValue: 8_888)!, status: .ok)
    let page = metrics.registry.emitToString()
    #expect(page.contains("# TYPE o3_om_requests_total counter\n"))
    #expect(page.contains("o3_om_requests_total{type=\"CreateVolume\",status=\"OK\"} 2\n"))
    #expect(page.contains("o3_om_requests_total{type=\"InfoBucket\",status=\"BUCKET_NOT_FOUND\"} 1\n"))
    #expect(page.contains("o3_om_requests_total{type=\"UNKNOWN\",status=\"OK\"} 2\n"))
    #expect(page.contains("o3_om_requests_total{type=\"UNKNOWN\",status=\"UNKNOWN\"} 0\n"))
    #expect(page.split(separator: "\n").filter { $0.hasPrefix("o3_om_requests_total{") }.count == 4)
  }

  @Test func flushBatchSizeIsTheIndexDistanceBetweenFlushes() {
    let metrics = OMMetrics(flushedIndex: 10)
    metrics.observeFlush(through: 11)
    metrics.observeFlush(through: 15)
    metrics.observeFlush(through: 15)
    let page = metrics.registry.emitToString()
    #expect(page.contains("o3_om_double_buffer_flush_transactions_count 2\n"))
    #expect(page.contains("o3_om_double_buffer_flush_transactions_sum 5.0\n"))
  }
}
