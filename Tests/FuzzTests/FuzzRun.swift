// Bad-input fuzzers for the OM's ports (issue 7): the client RPC port (OMRequest payloads,
// O3RPC frames, admin JSON), the Raft port (frames, batches from strangers) and the HTTP port.
//
// CI runs each with a small fixed budget (the whole target in well under a minute). A long run
// takes the same tests with more iterations and a fresh seed:
//
//     O3_FUZZ_ITERATIONS=20000 O3_FUZZ_SEED=random O3_FUZZ_VERBOSE=1 swift test --filter FuzzTests
//
// Every failure message names the seed and the command that replays the run exactly (the
// inputs depend on the seed alone, never on the server's answers); O3_FUZZ_VERBOSE prints what
// each fuzzer covered. O3_TEST_LOG=1 shows the OMs' logs.

import Foundation
import Synchronization

/// How long and from where a fuzzer runs: `O3_FUZZ_ITERATIONS` (default: the test's CI budget)
/// and `O3_FUZZ_SEED` (a number, or `random` for a fresh one; default: fixed per fuzzer).
struct FuzzSettings: Sendable {
  static let iterationsVariable = "O3_FUZZ_ITERATIONS"
  static let seedVariable = "O3_FUZZ_SEED"

  let fuzzer: String
  let seed: UInt64
  let iterations: Int

  init(fuzzer: String, defaultIterations: Int, environment: [String: String] = ProcessInfo.processInfo.environment) {
    self.fuzzer = fuzzer
    iterations = environment[Self.iterationsVariable].flatMap { Int($0) }.map { max(1, $0) } ?? defaultIterations
    switch environment[Self.seedVariable] {
    case "random"?: seed = UInt64.random(in: 1...UInt64.max)
    case let text?: seed = UInt64(text) ?? Self.defaultSeed(fuzzer)
    case nil: seed = Self.defaultSeed(fuzzer)
    }
  }

  /// FNV-1a of the fuzzer's name: a fixed seed per fuzzer, different between fuzzers.
  static func defaultSeed(_ fuzzer: String) -> UInt64 {
    fuzzer.utf8.reduce(0xCBF2_9CE4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01B3 }
  }

  /// The command that runs this fuzzer again with the same inputs.
  var replayCommand: String {
    "\(Self.seedVariable)=\(seed) \(Self.iterationsVariable)=\(iterations) swift test --filter FuzzTests.\(fuzzer)"
  }

  func makeRandom() -> FuzzRandom { FuzzRandom(seed: seed) }
}

/// The failures of one fuzz run, each with the iteration and input that caused it; reported in
/// one expectation that names the seed, so that the run can be replayed.
final class FuzzFindings: Sendable {
  private let state = Mutex<(failures: [String], counters: [String: Int])>(([], [:]))
  /// Stops the run early: after this many failures more are only noise.
  static let maxFailures = 20

  func fail(_ iteration: Int, _ what: String, input: [UInt8] = []) {
    let shown = input.isEmpty ? "" : " input=\(Self.hex(input))"
    state.withLock { $0.failures.append("#\(iteration): \(what)\(shown)") }
  }

  /// Counts an outcome (e.g. "closed for a framing error") for the summary.
  func count(_ outcome: String, by amount: Int = 1) {
    state.withLock { $0.counters[outcome, default: 0] += amount }
  }

  var isFull: Bool { state.withLock { $0.failures.count >= Self.maxFailures } }
  var recorded: [String] { state.withLock { $0.failures } }
  var outcomes: [String: Int] { state.withLock { $0.counters } }

  func summary(_ settings: FuzzSettings) -> String {
    let outcomes = self.outcomes.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
    return "\(settings.fuzzer): \(settings.iterations) iterations, seed \(settings.seed); \(outcomes)\n"
      + recorded.joined(separator: "\n") + "\nreplay: \(settings.replayCommand)"
  }

  /// Prints the summary when `O3_FUZZ_VERBOSE` is set (long runs show what they covered).
  func printSummaryIfVerbose(_ settings: FuzzSettings) {
    if ProcessInfo.processInfo.environment["O3_FUZZ_VERBOSE"] != nil { print(summary(settings)) }
  }

  /// The first bytes of an input, in hex, for a failure message.
  static func hex(_ bytes: [UInt8], limit: Int = 96) -> String {
    let shown = bytes.prefix(limit).map { String(format: "%02x", $0) }.joined()
    return bytes.count > limit ? "\(shown)…(\(bytes.count) bytes)" : shown
  }
}
