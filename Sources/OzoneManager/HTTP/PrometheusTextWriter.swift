import Foundation

/// Builds a page in Prometheus' text exposition format, version 0.0.4.
///
/// One `family` line pair (`# HELP`, `# TYPE`) precedes the samples of each metric; label values
/// and help text are escaped as the format requires, so a node id or status name can never break
/// the page.
public struct PrometheusTextWriter: Sendable {
  /// The media type a scraper expects for this format.
  public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

  /// The kinds of metric the format names in its `# TYPE` line.
  public enum Kind: String, Sendable {
    case counter
    case gauge
    case histogram
  }

  public private(set) var text = ""

  public init() {}

  /// Starts a metric family.
  public mutating func family(_ name: String, _ kind: Kind, help: String) {
    text += "# HELP \(name) \(Self.escapeHelp(help))\n# TYPE \(name) \(kind.rawValue)\n"
  }

  /// Writes one sample line.
  public mutating func sample(_ name: String, labels: [(String, String)] = [], _ value: Double) {
    text += name
    if !labels.isEmpty {
      text += "{" + labels.map { "\($0.0)=\"\(Self.escapeLabelValue($0.1))\"" }.joined(separator: ",") + "}"
    }
    text += " \(Self.format(value))\n"
  }

  /// A gauge family with a single unlabelled sample.
  public mutating func gauge(_ name: String, help: String, _ value: Double) {
    family(name, .gauge, help: help)
    sample(name, value)
  }

  /// A counter family with a single unlabelled sample.
  public mutating func counter(_ name: String, help: String, _ value: Double) {
    family(name, .counter, help: help)
    sample(name, value)
  }

  /// Integers print without a fraction (`17`, not `17.0`); infinities as `+Inf` and `-Inf`.
  public static func format(_ value: Double) -> String {
    if value == .infinity { return "+Inf" }
    if value == -.infinity { return "-Inf" }
    if value.isNaN { return "NaN" }
    if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
    return String(value)
  }

  static func escapeLabelValue(_ value: String) -> String {
    var escaped = ""
    for character in value {
      switch character {
      case "\\": escaped += "\\\\"
      case "\"": escaped += "\\\""
      case "\n": escaped += "\\n"
      default: escaped.append(character)
      }
    }
    return escaped
  }

  static func escapeHelp(_ help: String) -> String {
    help.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
  }
}
