/// The summary etcd-load prints: the same fields, in the same units, as `o3 freon --json`.
public struct LoadReport: Sendable {
  public var options: LoadOptions
  public var outcome: LoadOutcome

  public init(options: LoadOptions, outcome: LoadOutcome) {
    self.options = options
    self.outcome = outcome
  }

  public var operationsPerSecond: Double {
    outcome.elapsedSeconds > 0 ? Double(outcome.succeeded) / outcome.elapsedSeconds : 0
  }

  /// One JSON object on one line, keys sorted.
  public func json() -> String {
    let latency = outcome.latencyMicroseconds
    let latencyFields = [
      ("max", "\(latency.maximum)"), ("mean", Self.decimal(latency.mean, places: 1)),
      ("p50", "\(latency.value(atPercentile: 50))"), ("p90", "\(latency.value(atPercentile: 90))"),
      ("p99", "\(latency.value(atPercentile: 99))"), ("p99.9", "\(latency.value(atPercentile: 99.9))"),
    ]
    let fields: [(String, String)] = [
      ("clients", "\(options.clients)"),
      ("connections", "\(options.connections)"),
      ("elapsedSeconds", Self.decimal(outcome.elapsedSeconds, places: 6)),
      ("endpoints", Self.quoted(options.endpoints.map(\.description).joined(separator: ","))),
      ("eventLoopThreads", "\(options.threads)"),
      ("failed", "\(outcome.failed)"),
      ("failureSamples", "[" + outcome.failureSamples.map(Self.quoted).joined(separator: ",") + "]"),
      ("generator", Self.quoted("etcd-load")),
      ("latencyMicroseconds", "{" + latencyFields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"),
      ("operation", Self.quoted(operationName)),
      ("operations", "\(outcome.succeeded + outcome.failed)"),
      ("operationsPerSecond", Self.decimal(operationsPerSecond, places: 1)),
      ("succeeded", "\(outcome.succeeded)"),
    ]
    return "{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
  }

  /// Three lines for people.
  public func text() -> String {
    let latency = outcome.latencyMicroseconds
    let milliseconds = { (microseconds: UInt64) in Self.decimal(Double(microseconds) / 1000, places: 3) + " ms" }
    return """
      etcd-load: \(operationName) on \(options.endpoints.map(\.description).joined(separator: ",")), \
      \(options.clients) clients over \(options.connections) connections
      operations: \(outcome.succeeded + outcome.failed) (\(outcome.succeeded) succeeded, \(outcome.failed) failed) \
      in \(Self.decimal(outcome.elapsedSeconds, places: 3)) s = \(Self.decimal(operationsPerSecond, places: 1)) ops/s
      latency: p50 \(milliseconds(latency.value(atPercentile: 50))), p90 \(milliseconds(latency.value(atPercentile: 90))), \
      p99 \(milliseconds(latency.value(atPercentile: 99))), max \(milliseconds(latency.maximum))
      """
  }

  var operationName: String {
    switch options.mode {
    case .put: "Put"
    case .range: options.serializable ? "Range (serializable)" : "Range (linearizable)"
    }
  }

  /// `value` with `places` decimals, without Foundation's formatter.
  static func decimal(_ value: Double, places: Int) -> String {
    guard value.isFinite else { return "0" }
    var scale: Double = 1
    for _ in 0..<places { scale *= 10 }
    let scaled = Int64((abs(value) * scale).rounded())
    let whole = scaled / Int64(scale)
    let fraction = String(scaled % Int64(scale))
    let sign = value < 0 && scaled != 0 ? "-" : ""
    guard places > 0 else { return "\(sign)\(whole)" }
    return "\(sign)\(whole)." + String(repeating: "0", count: places - fraction.count) + fraction
  }

  static func quoted(_ text: String) -> String {
    var result = "\""
    for scalar in text.unicodeScalars {
      switch scalar {
      case "\"": result += "\\\""
      case "\\": result += "\\\\"
      case "\n": result += "\\n"
      case _ where scalar.value < 0x20:
        let hex = String(scalar.value, radix: 16)
        result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
      default: result.unicodeScalars.append(scalar)
      }
    }
    return result + "\""
  }
}
