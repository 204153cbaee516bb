import Foundation
import RaftSimulation
import O3TestSupport
import Testing

/// The deterministic simulator over many seeds (the CI set), or over the seeds named by
/// `O3_SIM_SEED=n` (replay one) or `O3_SIM_SEEDS=first-last` (a soak).
@Suite(.watchdog) struct SimulationSeedTests {
  /// Seeds CI runs when no environment variable names others.
  static let continuousIntegrationSeeds: Range<UInt64> = 0..<300
  /// The seeds are split into this many chunks that run in parallel.
  static let chunkCount = 6

  static var selectedSeeds: [UInt64] {
    let environment = ProcessInfo.processInfo.environment
    if let single = environment["O3_SIM_SEED"].flatMap(UInt64.init) { return [single] }
    if let range = environment["O3_SIM_SEEDS"] {
      let bounds = range.split(separator: "-").compactMap { UInt64($0) }
      precondition(bounds.count == 2 && bounds[0] <= bounds[1], "O3_SIM_SEEDS must be first-last")
      return Array(bounds[0]...bounds[1])
    }
    return Array(continuousIntegrationSeeds)
  }

  @Test(arguments: 0..<chunkCount)
  func seedsKeepEveryInvariant(chunk: Int) async {
    let seeds = Self.selectedSeeds.enumerated().filter { $0.offset % Self.chunkCount == chunk }
    let verbose = Self.selectedSeeds.count == 1
    for (_, seed) in seeds {
      let report = await simulate(seed)
      if verbose { print(report.summary) }
      #expect(report.failure == nil, "\(report.failure.map(String.init(describing:)) ?? "")")
    }
  }
}
