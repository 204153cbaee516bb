import O3TestSupport
import Testing

/// Fuzzed Raft messages from strangers against a three-OM group in this process: every batch is
/// answered, no replica crashes, the group keeps a leader in about the same term, a valid write
/// still commits, and no replica ever applies an entry a stranger sent.
@Suite(.watchdog, .serialized) struct RaftFuzzTests {
  @Test func raftMessagesFromStrangersChangeNothing() async throws {
    let settings = FuzzSettings(fuzzer: "RaftFuzzTests", defaultIterations: 300)
    let findings = FuzzFindings()
    let cluster = try await InProcessCluster.start("raft")
    let leaderBefore = try await cluster.leader()
    let termsBefore = await cluster.terms()
    var random = settings.makeRandom()
    let ports = cluster.raftPorts
    try await RaftFuzzer(ports: ports, findings: findings).run(
      iterations: settings.iterations, random: &random)
    let termsAfter = await cluster.terms()
    let leaderAfter = try await cluster.leader()
    let write = try await cluster.submit(OMRequestCorpus.createVolume("fz-after", random: &random), to: leaderAfter)
    try await cluster.waitUntilEveryNodeHas(volume: "fz-after")
    var injected: [String] = []
    for node in InProcessCluster.nodeIDs {
      injected += try cluster.volumes(on: node, prefix: RaftBatchMutator.markerVolumePrefix).map { "\(node): \($0)" }
    }
    await cluster.shutdown()
    findings.printSummaryIfVerbose(settings)
    #expect(findings.recorded.isEmpty, "\(findings.summary(settings))")
    #expect(cluster.fatalErrors.recorded.isEmpty, "\(cluster.fatalErrors.recorded)")
    #expect(injected.isEmpty, "replicas applied entries a stranger sent: \(injected)")
    #expect(write.status == .ok, "a valid write commits after the fuzz: \(write.message)")
    for node in InProcessCluster.nodeIDs {
      let (before, after) = (termsBefore[node] ?? 0, termsAfter[node] ?? UInt64.max)
      #expect(after >= before && after - before <= 3, "\(node): term \(before) → \(after) (leader \(leaderBefore) → \(leaderAfter))")
    }
  }
}
