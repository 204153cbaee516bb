import Foundation
import O3TestSupport

/// One nemesis run: a cluster, the namespace workload, the schedule, then the checks of
/// ``FaultSession/finish(checking:)``, plus: every scheduled event ran and no OM ended by itself.
struct NemesisRun {
  /// Nemesis events between two epochs of the workload (see ``NamespaceWorkload``).
  static let eventsPerEpoch = 4

  let options: FaultRunOptions
  let nodeCount: Int

  /// What the run found; `problems` is empty when everything held.
  struct Outcome {
    var problems: [String] = []
    var summary = ""
    var eventLog: [String] = []
    var dataDirectory = ""
  }

  func execute() async throws -> Outcome {
    let events = NemesisSchedule.make(
      seed: options.seed ^ UInt64(nodeCount), count: options.eventCount(nodeCount: nodeCount), nodeCount: nodeCount,
      kinds: options.kinds, timing: NemesisTiming())
    FaultLog.line("fault run: \(nodeCount) OMs, seed \(options.seed), \(events.count) events; replay: \(options.replayCommand(nodeCount: nodeCount))")
    let began = ContinuousClock.now
    let cluster = try await OMFaultCluster.start(
      label: "nemesis\(nodeCount)", nodeCount: nodeCount, clientCount: options.clients, seed: options.seed,
      overrides: options.settings(nodeCount: nodeCount))
    defer { cluster.killAll() }
    let session = try await FaultSession.start(on: cluster, seed: options.seed)
    defer { session.workload.abandon() }
    let nemesis = Nemesis(cluster: cluster)
    for event in events {
      await nemesis.perform(event)
      // Pacing only: give the cluster a chance to elect before the next fault.
      _ = await cluster.waitForLeader(timeout: .seconds(30))
      try await Task.sleep(for: .milliseconds(event.gapMilliseconds))
      if event.number % Self.eventsPerEpoch == 0 {
        _ = await session.workload.advanceEpoch(to: session.workload.currentEpoch + 1, using: session.observer)
      }
    }
    await nemesis.heal()
    let verdict = await session.finish()
    var outcome = Outcome(problems: nemesis.unexpectedExits + verdict.problems, eventLog: nemesis.eventLog, dataDirectory: cluster.root)
    let elapsed = ContinuousClock.now - began
    outcome.summary =
      "\(nodeCount) OMs, seed \(options.seed): \(events.count) nemesis events, \(verdict.operations) operations "
      + "(\(verdict.unknownOperations) with unknown outcome), \(session.workload.currentEpoch + 1) epochs, "
      + "\(outcome.problems.count) anomalies, \(elapsed.components.seconds) s; "
      + "\(cluster.logLines(containing: "[Raft] role leader")) leaderships won, "
      + "\(cluster.logLines(containing: "installing a checkpoint from leader")) checkpoint installs, "
      + "proxies \(cluster.mesh.totals)"
    FaultLog.line("fault run: \(outcome.summary)")
    await cluster.shutDown(removeFiles: outcome.problems.isEmpty && !options.keepFiles)
    return outcome
  }
}
