import ArgumentParser

/// The options every freon generator takes, named as Ozone's BaseFreonGenerator names them.
struct FreonOptions: ParsableArguments {
  /// One OzoneClient connection carries every task's calls, and O3RPC refuses more outstanding
  /// calls per connection than `RPCLimits.maxOutstandingCallsPerConnection` (4096).
  static let threadsMaximum = 4096

  @Option(
    name: [.customShort("n"), .customLong("number-of-tests")],
    help: "Operations to run; with --duration, the range of object indexes (names wrap around).")
  var count = 1000

  @Option(
    name: [.customShort("t"), .customLong("thread"), .customLong("threads")],
    help: "Operations in flight at once (concurrent tasks over one client).")
  var threads = 10

  @Option(
    name: [.short, .long],
    help: "Object names are <prefix>/<index>; empty picks a random prefix (printed in the report).")
  var prefix = ""

  @Option(name: .long, help: "Run for this long instead of -n operations: 30s, 5m, 1h, 7d (bare numbers are seconds).")
  var duration: String?

  @Flag(
    name: [.customShort("f"), .customLong("fail-at-end")],
    help: "Keep going after a failure (default: stop at the first).")
  var failAtEnd = false

  @Flag(name: .long, help: "Print the final report as one JSON object.")
  var json = false

  func validate() throws {
    guard count > 0 else { throw ValidationError("--number-of-tests must be a positive integer") }
    guard (1...Self.threadsMaximum).contains(threads) else {
      throw ValidationError("--thread must be between 1 and \(Self.threadsMaximum)")
    }
    if let duration { _ = try Self.parseDuration(duration) }
  }

  /// The run these options describe; `validate()` has already accepted them.
  func plan() throws -> FreonPlan {
    FreonPlan(
      count: count, threads: threads, duration: try duration.map(Self.parseDuration),
      stopAtFirstFailure: !failAtEnd)
  }

  /// A runner for these options: timed by the continuous clock, progress on standard error.
  func runner(name: String) throws -> FreonRunner<ContinuousClock> {
    let plan = try plan()
    return FreonRunner(plan: plan, clock: ContinuousClock(), progress: .onStandardError(name: name, plan: plan))
  }

  /// The prefix given, or a fresh random one as Ozone picks it (ten lowercase letters and digits).
  func resolvedPrefix() -> String {
    guard prefix.isEmpty else { return prefix }
    let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
    return String((0..<10).map { _ in alphabet[Int.random(in: 0..<alphabet.count)] })
  }

  /// Ozone's time durations: a positive whole number with an optional unit (ms, s, m, h, d).
  static func parseDuration(_ text: String) throws -> Duration {
    let units: [(suffix: String, seconds: Int64, milliseconds: Int64)] = [
      ("ms", 0, 1), ("s", 1, 0), ("m", 60, 0), ("h", 3600, 0), ("d", 86400, 0),
    ]
    let lowered = text.lowercased()
    let unit = units.first { lowered.hasSuffix($0.suffix) } ?? ("", 1, 0)
    guard let number = Int64(lowered.dropLast(unit.suffix.count)), number > 0,
      number <= Int64(Int32.max)
    else {
      throw ValidationError("--duration '\(text)' is not a positive duration (examples: 500ms, 30s, 5m, 1h, 7d)")
    }
    return .seconds(number * unit.seconds) + .milliseconds(number * unit.milliseconds)
  }
}
