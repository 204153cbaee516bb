import Foundation
import Histogram

/// The summary a freon run prints at the end: what ran, how many, how fast, how long each took.
struct FreonReport: Encodable {
  /// Latency percentiles of the successful operations, in microseconds.
  struct Latency: Encodable {
    var p50: UInt64
    var p90: UInt64
    var p99: UInt64
    var p999: UInt64
    var max: UInt64
    var mean: Double

    enum CodingKeys: String, CodingKey {
      case p50, p90, p99
      case p999 = "p99.9"
      case max, mean
    }

    init(_ histogram: Histogram<UInt64>) {
      p50 = histogram.valueAtPercentile(50)
      p90 = histogram.valueAtPercentile(90)
      p99 = histogram.valueAtPercentile(99)
      p999 = histogram.valueAtPercentile(99.9)
      max = histogram.maxRecorded
      mean = (histogram.mean * 10).rounded() / 10
    }
  }

  /// The freon subcommand: `omkg`, `ombg`, `omkr`.
  var generator: String
  /// The OM calls one operation makes, e.g. `CreateKey+CommitKey`.
  var operation: String
  var volume: String
  var bucket: String
  var prefix: String
  var threads: Int
  /// Operations that finished, successfully or not.
  var operations: Int
  var succeeded: Int
  var failed: Int
  var elapsedSeconds: Double
  /// Successful operations per second of elapsed time.
  var operationsPerSecond: Double
  var latencyMicroseconds: Latency
  /// The first few failures' messages.
  var failureSamples: [String]
  /// True when Ctrl-C ended the run before its plan.
  var interrupted: Bool

  init(
    generator: String, operation: String, volume: String, bucket: String, prefix: String, plan: FreonPlan,
    outcome: FreonOutcome
  ) {
    self.generator = generator
    self.operation = operation
    self.volume = volume
    self.bucket = bucket
    self.prefix = prefix
    threads = plan.threads
    operations = outcome.succeeded + outcome.failed
    succeeded = outcome.succeeded
    failed = outcome.failed
    let seconds = Self.seconds(outcome.elapsed)
    elapsedSeconds = (seconds * 1_000_000).rounded() / 1_000_000
    operationsPerSecond = seconds > 0 ? (Double(outcome.succeeded) / seconds * 10).rounded() / 10 : 0
    latencyMicroseconds = Latency(outcome.latencyMicroseconds)
    failureSamples = outcome.failureSamples
    interrupted = outcome.interrupted
  }

  /// The report for people: three lines on standard output.
  func text() -> String {
    let latency = latencyMicroseconds
    let latencyLine =
      succeeded == 0
      ? "latency: no successful operations"
      : "latency: p50 \(Self.milliseconds(latency.p50)), p90 \(Self.milliseconds(latency.p90)), "
        + "p99 \(Self.milliseconds(latency.p99)), p99.9 \(Self.milliseconds(latency.p999)), "
        + "max \(Self.milliseconds(latency.max)) (mean \(String(format: "%.3f ms", latency.mean / 1000)))"
    let interruption = interrupted ? " (interrupted)" : ""
    return """
      \(generator): \(operation) in /\(volume)/\(bucket), prefix \(prefix), \(threads) threads\(interruption)
      operations: \(operations) (\(succeeded) succeeded, \(failed) failed) \
      in \(String(format: "%.3f", elapsedSeconds)) s = \(String(format: "%.1f", operationsPerSecond)) ops/s
      \(latencyLine)
      """
  }

  /// The report for programs: one JSON object on one line.
  func json() -> String {
    let encoder = JSONEncoder()
    // Sorted keys: the same report prints the same bytes, so runs diff cleanly.
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    // Encoding plain numbers, strings and arrays cannot fail.
    guard let data = try? encoder.encode(self) else { preconditionFailure("FreonReport did not encode") }
    return String(decoding: data, as: UTF8.self)
  }

  /// Prints the failures on standard error and the report on standard output, then fails the
  /// command if an operation failed (exit 255, as a failed `ozone freon` run) or Ctrl-C cut it short.
  func publish(asJSON: Bool) throws {
    if let summary = failureSummary() { FileHandle.standardError.write(Data((summary + "\n").utf8)) }
    print(asJSON ? json() : text())
    if interrupted { throw CommandFailure(message: "\(generator): interrupted", exitCode: 130) }
    if failed > 0 { throw CommandFailure(message: "\(generator): \(failed) of \(operations) operations failed") }
  }

  /// The failures to show on standard error, or nil when there were none.
  func failureSummary() -> String? {
    guard failed > 0 else { return nil }
    let heading =
      failed > failureSamples.count
      ? "\(failed) operations failed; the first \(failureSamples.count):" : "\(failed) operations failed:"
    return ([heading] + failureSamples.map { "  " + $0 }).joined(separator: "\n")
  }

  static func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
  }

  private static func milliseconds(_ microseconds: UInt64) -> String {
    String(format: "%.3f ms", Double(microseconds) / 1000)
  }
}
