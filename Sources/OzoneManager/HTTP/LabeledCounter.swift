import Synchronization

/// A counter family whose series are told apart by label values, with a bound on the series.
///
/// Label values often come from the network (a request type a client made up); past
/// `seriesMax` distinct label sets, new ones are counted in one `overflow` series instead of
/// growing the page without limit.
public final class LabeledCounter<Key: Hashable & Sendable>: Sendable {
  public let name: String
  public let help: String
  public let labelNames: [String]
  public let seriesMax: Int
  private let labelValues: @Sendable (Key) -> [String]
  private let counts = Mutex<(series: [Key: UInt64], overflow: UInt64)>(([:], 0))

  /// - Parameter labelValues: the values of `labelNames` for a key, computed only when rendering
  ///   so that counting stays cheap.
  public init(
    name: String, help: String, labelNames: [String], seriesMax: Int = 1024,
    labelValues: @escaping @Sendable (Key) -> [String]
  ) {
    precondition(seriesMax > 0)
    self.name = name
    self.help = help
    self.labelNames = labelNames
    self.seriesMax = seriesMax
    self.labelValues = labelValues
  }

  public func increment(_ key: Key, by amount: UInt64 = 1) {
    counts.withLock { counts in
      if let current = counts.series[key] {
        counts.series[key] = current + amount
      } else if counts.series.count < seriesMax {
        counts.series[key] = amount
      } else {
        counts.overflow += amount
      }
    }
  }

  /// The count of one series (0 when never incremented).
  public func value(_ key: Key) -> UInt64 { counts.withLock { $0.series[key] ?? 0 } }

  public func render(into writer: inout PrometheusTextWriter) {
    let (series, overflow) = counts.withLock { ($0.series, $0.overflow) }
    writer.family(name, .counter, help: help)
    let rows = series.map { (labels: labelValues($0.key), count: $0.value) }.sorted { $0.labels.lexicographicallyPrecedes($1.labels) }
    for row in rows {
      writer.sample(name, labels: Array(zip(labelNames, row.labels)), Double(row.count))
    }
    if overflow > 0 {
      writer.sample(name, labels: labelNames.map { ($0, "overflow") }, Double(overflow))
    }
  }
}
