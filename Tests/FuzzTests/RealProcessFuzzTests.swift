import RaftRPC
import O3TestSupport
import Testing

/// Every fuzzer, fewer iterations each, against a real `o3 om` process: proof that bad input
/// never crashes the OM (a crash here ends the process, not the test). Afterwards it still
/// serves, and SIGTERM stops it cleanly.
@Suite(.watchdog, .serialized) struct RealProcessFuzzTests {
  @Test func aRealOMSurvivesEveryFuzzer() async throws {
    let settings = FuzzSettings(fuzzer: "RealProcessFuzzTests", defaultIterations: 40)
    let findings = FuzzFindings()
    let om = try await RealProcessOM.start("process")
    var random = settings.makeRandom()
    let iterations = settings.iterations
    try await OMRequestFuzzer(target: om, findings: findings).run(iterations: 3 * iterations, random: &random)
    try await FrameFuzzer(port: FramePorts.client(om), target: om, findings: findings).run(connections: iterations, random: &random)
    let raftPort = FramePorts.raft(om, maxFrameBytes: RaftRPCLimits().rpc.maxFrameBytes)
    try await FrameFuzzer(port: raftPort, target: om, findings: findings).run(connections: iterations, random: &random)
    try await RaftFuzzer(ports: [om.raftMembers[0]: om.raftPort], findings: findings).run(iterations: iterations, random: &random)
    try await AdminFuzzer(target: om, findings: findings).run(iterations: iterations, random: &random)
    try await HTTPFuzzer(target: om, dataDirectory: om.directory.path, findings: findings).run(
      iterations: iterations, random: &random)
    let alive = om.isAlive
    let stillServes = try await om.submitValid(OMRequestCorpus.createVolume("fz-after", random: &random))
    let exitStatus = await om.terminate()
    findings.printSummaryIfVerbose(settings)
    #expect(findings.recorded.isEmpty, "\(findings.summary(settings))")
    #expect(alive, "the OM process died: \(om.outputText.suffix(3_000))")
    #expect(stillServes.status == .ok, "the OM still serves a valid write: \(stillServes.message)")
    #expect(exitStatus == 0, "SIGTERM stops the OM cleanly: \(om.outputText.suffix(3_000))")
  }
}
