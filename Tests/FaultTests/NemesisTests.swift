// Real-process fault tests of the Ozone Manager (DESIGN.md §9, layer 4).
//
// `o3 om` ×3 and ×5 on 127.0.0.1, every peer-to-peer and client connection through its own
// userspace TCP proxy (O3TestSupport.LinkProxy), concurrent clients racing on a small
// namespace, and a seeded nemesis: kill -9 (random OM, leader), SIGSTOP/SIGCONT longer than the
// election timeout (leader, random OM), partitions (minority/majority, isolated leader, bridge,
// leader mute / leader deaf one-way), delayed, lossy and cut links, clients cut from the
// leader. Then: the history is checked by the linearizability checker (NamespaceModel), every
// OM must converge and stop cleanly, and every table of every OM must have the same digest.
// DiskFaultTests.swift covers a full Raft-log disk, a flipped byte and a torn last record.
//
// Short form (the normal test run): one 3-OM run and one 5-OM run of 20 events each (the
// 5-OM cluster purges its log every 20 entries, so restarted OMs catch up by checkpoint).
//
//   swift test --filter FaultTests
//
// Long form: the same tests with more events (and any seed); the seed is printed at the start
// of every run, and a failure prints it with the exact replay command.
//
//   O3_FAULT_EVENTS=2000 swift test --filter FaultTests.NemesisTests
//
// Environment:
//   O3_FAULT_EVENTS   nemesis events per run (default 20)
//   O3_FAULT_SEED     the seed (default: drawn and printed); fixes the schedule and the
//                     workload's choices, not the processes' timing
//   O3_FAULT_NODES    cluster sizes to run: "3", "5" or "3,5" (default)
//   O3_FAULT_KINDS    comma-separated nemesis kinds to draw from (default all; names as in
//                     NemesisKind, e.g. "kill-leader,pause-leader")
//   O3_FAULT_CLIENTS  workload clients (default 5)
//   O3_FAULT_SET      extra OM settings, "key=value;key=value" (e.g. lease reads:
//                     "ozone.om.ha.raft.server.read.leader.lease.enabled=true")
//   O3_FAULT_KEEP=1   keep the OMs' directories (logs, Raft logs, om.db) even when green;
//                     they are always kept when a run fails
import O3TestSupport
import Testing

@Suite(.watchdog, .serialized) struct NemesisTests {
  @Test(.enabled(if: FaultRunOptions.current.nodeCounts.contains(3)))
  func threeOMsUnderNemesis() async throws {
    try await run(nodeCount: 3)
  }

  @Test(.enabled(if: FaultRunOptions.current.nodeCounts.contains(5)))
  func fiveOMsUnderNemesis() async throws {
    try await run(nodeCount: 5)
  }

  private func run(nodeCount: Int) async throws {
    let options = FaultRunOptions.current
    let outcome = try await NemesisRun(options: options, nodeCount: nodeCount).execute()
    #expect(outcome.eventLog.count == options.eventCount(nodeCount: nodeCount), "every scheduled event ran")
    #expect(
      outcome.problems.isEmpty,
      """
      \(outcome.problems.count) anomalies with \(nodeCount) OMs, seed \(options.seed):
      \(outcome.problems.joined(separator: "\n"))
      events:
      \(outcome.eventLog.joined(separator: "\n"))
      OM directories kept in \(outcome.dataDirectory)
      replay: \(options.replayCommand(nodeCount: nodeCount))
      """)
  }
}
