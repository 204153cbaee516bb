import OMProto
import OzoneManager
import O3TestSupport
import Testing

/// The metrics registry's Prometheus text: what a scraper parses must be exactly right.
@Suite(.watchdog) struct MetricsTests {
  @Test func histogramBucketsAreCumulativeWithSumAndCount() {
    let histogram = MetricHistogram(name: "test_seconds", help: "A test.", upperBounds: [0.125, 1, 10])
    for value in [0.0625, 0.125, 0.5, 4, 64] { histogram.observe(value) }
    var writer = PrometheusTextWriter()
    histogram.render(into: &writer)
    #expect(
      writer.text == """
        # HELP test_seconds A test.
        # TYPE test_seconds histogram
        test_seconds_bucket{le="0.125"} 2
        test_seconds_bucket{le="1"} 3
        test_seconds_bucket{le="10"} 4
        test_seconds_bucket{le="+Inf"} 5
        test_seconds_sum 68.6875
        test_seconds_count 5

        """)
  }

  @Test func labelValuesAndHelpAreEscaped() {
    var writer = PrometheusTextWriter()
    writer.family("x_total", .counter, help: "back\\slash\nnewline")
    writer.sample("x_total", labels: [("node", "a\"b\\c\nd")], 3)
    #expect(writer.text == "# HELP x_total back\\\\slash\\nnewline\n# TYPE x_total counter\nx_total{node=\"a\\\"b\\\\c\\nd\"} 3\n")
  }

  @Test func requestCounterUsesOzoneNamesAndBoundsItsSeries() {
    let metrics = OMMetrics()
    metrics.requestCompleted(type: .createVolume, status: .ok)
    metrics.requestCompleted(type: .createVolume, status: .ok)
    metrics.requestCompleted(type: .infoBucket, status: .bucketNotFound)
    // Made-up numbers from a client share one UNKNOWN series, whatever their value.
    metrics.requestCompleted(type: CommandType(rawValue: 9_999)!, status: .ok)
    metrics.requestCompleted(type: CommandType(rawValue: 8_888)!, status: .ok)
    var writer = PrometheusTextWriter()
    metrics.requests.render(into: &writer)
    #expect(writer.text.contains("o3_om_requests_total{type=\"CreateVolume\",status=\"OK\"} 2\n"))
    #expect(writer.text.contains("o3_om_requests_total{type=\"InfoBucket\",status=\"BUCKET_NOT_FOUND\"} 1\n"))
    #expect(writer.text.contains("o3_om_requests_total{type=\"UNKNOWN\",status=\"OK\"} 2\n"))

    let bounded = LabeledCounter<Int>(name: "b_total", help: "b", labelNames: ["n"], seriesMax: 2) { ["\($0)"] }
    for key in 0..<5 { bounded.increment(key) }
    var boundedWriter = PrometheusTextWriter()
    bounded.render(into: &boundedWriter)
    #expect(boundedWriter.text.split(separator: "\n").filter { $0.hasPrefix("b_total{") }.count == 3)
    #expect(boundedWriter.text.contains("b_total{n=\"overflow\"} 3\n"))
  }

  @Test func flushBatchSizeIsTheIndexDistanceBetweenFlushes() {
    let metrics = OMMetrics(flushedIndex: 10)
    metrics.observeFlush(through: 11)
    metrics.observeFlush(through: 15)
    metrics.observeFlush(through: 15)
    let (counts, sum) = metrics.flushBatchTransactions.snapshot
    #expect(counts.last == 2)
    #expect(sum == 5)
  }

  @Test func numbersPrintAsPrometheusParsesThem() {
    #expect(PrometheusTextWriter.format(17) == "17")
    #expect(PrometheusTextWriter.format(0.25) == "0.25")
    #expect(PrometheusTextWriter.format(.infinity) == "+Inf")
    #expect(PrometheusTextWriter.format(-.infinity) == "-Inf")
    #expect(PrometheusTextWriter.format(.nan) == "NaN")
  }
}
