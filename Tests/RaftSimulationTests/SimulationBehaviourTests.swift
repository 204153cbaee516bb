import RaftSimulation
import O3TestSupport
import Testing

/// The simulator itself: determinism, coverage of the faults it claims to inject, and checks
/// that catch a driver deliberately broken.
@Suite(.watchdog) struct SimulationBehaviourTests {
  /// FoundationDB's self-check: one seed, one trace.
  @Test func sameSeedGivesSameTraceHash() async {
    let first = await simulate(4242)
    let second = await simulate(4242)
    let other = await simulate(4243)
    #expect(first.failure == nil)
    #expect(first.traceHash == second.traceHash)
    #expect(first.eventCount == second.eventCount)
    #expect(first.statistics == second.statistics)
    #expect(first.traceHash != other.traceHash)
  }

  /// Over a few dozen seeds every kind of fault and every recovery path happens at least once,
  /// so a green run means they were survived, not skipped.
  @Test func swarmExercisesEveryFault() async {
    var total = SimulationStatistics()
    for seed in UInt64(1000)..<1040 {
      let report = await simulate(seed)
      #expect(report.failure == nil, "\(report.failure.map(String.init(describing:)) ?? "")")
      let statistics = report.statistics
      total.crashes += statistics.crashes
      total.tornWritesDropped += statistics.tornWritesDropped
      total.restarts += statistics.restarts
      total.pauses += statistics.pauses
      total.partitions += statistics.partitions
      total.membershipChangesProposed += statistics.membershipChangesProposed
      total.leaderTransfersRequested += statistics.leaderTransfersRequested
      total.compactions += statistics.compactions
      total.checkpointsInstalled += statistics.checkpointsInstalled
      total.operationsCompleted += statistics.operationsCompleted
      total.operationsTimedOut += statistics.operationsTimedOut
      total.operationsResolvedFromLog += statistics.operationsResolvedFromLog
    }
    print("swarm statistics over 40 seeds: \(total)")
    #expect(total.crashes > 0)
    #expect(total.tornWritesDropped > 0)
    #expect(total.restarts > 0)
    #expect(total.pauses > 0)
    #expect(total.partitions > 0)
    #expect(total.membershipChangesProposed > 0)
    #expect(total.leaderTransfersRequested > 0)
    #expect(total.compactions > 0)
    #expect(total.checkpointsInstalled > 0)
    #expect(total.operationsCompleted > 0)
    #expect(total.operationsTimedOut > 0)
    #expect(total.operationsResolvedFromLog > 0)
  }

  /// Reads answered from a node's own state, skipping ReadIndex, must be caught as stale reads
  /// by the linearizability check on some seed of a handful.
  @Test func staleLocalReadsAreCaught() async throws {
    let failure = try #require(await firstFailure(seeds: 0..<30, sabotage: .readsServedLocally))
    #expect(failure.violation.invariant == .linearizability)
    #expect(failure.description.contains("O3_SIM_SEED=\(failure.seed) swift test"))
  }

  /// Messages sent before their Ready is synced must be caught.
  @Test func messagesBeforeSyncAreCaught() async throws {
    let failure = try #require(await firstFailure(seeds: 0..<30, sabotage: .sendBeforeSync))
    #expect(failure.violation.invariant == .messageBeforeSync)
  }

  private func firstFailure(seeds: Range<UInt64>, sabotage: SimulationSabotage) async
    -> SimulationFailure?
  {
    for seed in seeds {
      var options = SimulationOptions.swarm(seed: seed)
      options.sabotage = sabotage
      if let failure = await simulate(seed, options: options).failure { return failure }
    }
    return nil
  }
}
