/// What one simulated run did and found.
public struct SimulationReport: Sendable {
  public var seed: UInt64
  public var options: SimulationOptions
  /// FNV-1a over every event processed: the same seed must give the same hash.
  public var traceHash: TraceHash
  public var eventCount: Int
  public var virtualMicroseconds: UInt64
  public var statistics: SimulationStatistics
  /// The first property found broken, if any.
  public var failure: SimulationFailure?

  /// The command that replays this seed.
  public var replayCommand: String { SimulationFailure.replayCommand(seed: seed) }
}

/// A broken property, with what a person needs to reproduce and debug it.
public struct SimulationFailure: Error, Sendable, CustomStringConvertible {
  /// How many of the last events a failure report lists.
  public static let recentEventsMax = 40

  public var seed: UInt64
  public var violation: SimulationViolation
  public var timeMicroseconds: UInt64
  /// The last events before the failure, oldest first.
  public var recentEvents: [String]

  public static func replayCommand(seed: UInt64) -> String {
    "O3_SIM_SEED=\(seed) swift test --filter RaftSimulationTests"
  }

  public var description: String {
    ([
      "simulation seed \(seed) failed at t=\(timeMicroseconds)µs: \(violation)",
      "replay: \(Self.replayCommand(seed: seed))",
      "last events:",
    ] + recentEvents.map { "  " + $0 }).joined(separator: "\n")
  }
}

/// Counts of what happened in a run, to see that the faults a seed asked for really happened.
public struct SimulationStatistics: Hashable, Sendable {
  public var crashes = 0
  /// Crashes whose kept unsynced bytes ended inside a frame that recovery had to drop.
  public var tornWritesDropped = 0
  public var restarts = 0
  public var pauses = 0
  public var partitions = 0
  /// Distinct (leader, term) pairs seen.
  public var leadersElected = 0
  public var membershipChangesProposed = 0
  public var leaderTransfersRequested = 0
  public var compactions = 0
  public var checkpointsInstalled = 0
  public var messagesSent = 0
  public var operationsCompleted = 0
  public var operationsTimedOut = 0
  public var operationsRefused = 0
  /// Timed-out operations whose effect was later found in the log (given a return time).
  public var operationsResolvedFromLog = 0
  /// Operations handed to the linearizability checker.
  public var operationsChecked = 0

  public init() {}
}

extension SimulationReport {
  /// A few lines saying what the run did, for a replayed seed.
  public var summary: String {
    let outcome = failure.map { "FAILED: \($0.violation)" } ?? "passed"
    let ticks = virtualMicroseconds / options.tickMicroseconds
    return """
      seed \(seed) \(outcome)
        trace \(traceHash) · \(eventCount) events · \(ticks) ticks
        options \(options)
        statistics \(statistics)
      """
  }
}
