import Synchronization

/// A histogram with fixed bucket bounds, rendered as a Prometheus histogram.
///
/// Fixed buckets keep an observation O(buckets) with no allocation and make the page
/// aggregatable across OMs (every OM uses the same bounds). Observations above the last bound
/// land only in the implicit `+Inf` bucket.
public final class MetricHistogram: Sendable {
  public let name: String
  public let help: String
  /// Upper bounds (inclusive, as Prometheus' `le`), strictly increasing.
  public let upperBounds: [Double]

  private struct State {
    /// Per-bucket counts, not cumulative; the last slot is the `+Inf` bucket.
    var counts: [UInt64]
    var sum: Double = 0
  }

  private let state: Mutex<State>

  public init(name: String, help: String, upperBounds: [Double]) {
    precondition(!upperBounds.isEmpty, "a histogram needs at least one bucket")
    precondition(zip(upperBounds, upperBounds.dropFirst()).allSatisfy { $0 < $1 }, "bucket bounds must increase")
    self.name = name
    self.help = help
    self.upperBounds = upperBounds
    state = Mutex(State(counts: Array(repeating: 0, count: upperBounds.count + 1)))
  }

  public func observe(_ value: Double) {
    let bucket = upperBounds.firstIndex { value <= $0 } ?? upperBounds.count
    state.withLock {
      $0.counts[bucket] += 1
      $0.sum += value
    }
  }

  /// The cumulative count per bound (the last one is `+Inf`, equal to the total), and the sum.
  public var snapshot: (cumulativeCounts: [UInt64], sum: Double) {
    let (counts, sum) = state.withLock { ($0.counts, $0.sum) }
    var running: UInt64 = 0
    return (counts.map { running += $0; return running }, sum)
  }

  public func render(into writer: inout PrometheusTextWriter) {
    let (cumulative, sum) = snapshot
    writer.family(name, .histogram, help: help)
    for (bound, count) in zip(upperBounds, cumulative) {
      writer.sample("\(name)_bucket", labels: [("le", PrometheusTextWriter.format(bound))], Double(count))
    }
    writer.sample("\(name)_bucket", labels: [("le", "+Inf")], Double(cumulative[upperBounds.count]))
    writer.sample("\(name)_sum", sum)
    writer.sample("\(name)_count", Double(cumulative[upperBounds.count]))
  }

  /// Latency bounds in seconds, 100 µs to 10 s: an fsync, an apply batch, a request.
  public static let latencyBoundsSeconds: [Double] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
  ]

  /// Size bounds, powers of two from 1 to 16384: entries or transactions per batch.
  public static let batchSizeBounds: [Double] = (0...14).map { Double(1 << $0) }
}
