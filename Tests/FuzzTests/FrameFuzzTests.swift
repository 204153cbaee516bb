import RaftRPC
import O3TestSupport
import Testing

/// Fuzzed O3RPC byte streams on an in-process OM's two ports: each complete frame answered once
/// (or the connection closed for a framing error), nothing written without a reply saying so,
/// and the OM serving afterwards.
@Suite(.watchdog, .serialized) struct FrameFuzzTests {
  @Test func fuzzedFramesOnTheClientPort() async throws {
    let settings = FuzzSettings(fuzzer: "FrameFuzzTests.fuzzedFramesOnTheClientPort", defaultIterations: 60)
    let findings = FuzzFindings()
    let om = try await InProcessOM.start("frames-client")
    var random = settings.makeRandom()
    try await FrameFuzzer(port: FramePorts.client(om), target: om, findings: findings)
      .run(connections: settings.iterations, random: &random)
    let stillServes = try await om.submitValid(OMRequestCorpus.createVolume("fz-after", random: &random))
    await om.shutdown()
    findings.printSummaryIfVerbose(settings)
    #expect(findings.recorded.isEmpty, "\(findings.summary(settings))")
    #expect(stillServes.status == .ok, "the OM still serves a valid write: \(stillServes.message)")
    #expect(om.fatalErrors.recorded.isEmpty, "\(om.fatalErrors.recorded)")
  }

  @Test func fuzzedFramesOnTheRaftPort() async throws {
    let settings = FuzzSettings(fuzzer: "FrameFuzzTests.fuzzedFramesOnTheRaftPort", defaultIterations: 60)
    let findings = FuzzFindings()
    let om = try await InProcessOM.start("frames-raft")
    var random = settings.makeRandom()
    let port = FramePorts.raft(om, maxFrameBytes: RaftRPCLimits().rpc.maxFrameBytes)
    try await FrameFuzzer(port: port, target: om, findings: findings).run(connections: settings.iterations, random: &random)
    let stillServes = try await om.submitValid(OMRequestCorpus.createVolume("fz-after", random: &random))
    await om.shutdown()
    findings.printSummaryIfVerbose(settings)
    #expect(findings.recorded.isEmpty, "\(findings.summary(settings))")
    #expect(stillServes.status == .ok, "the OM still serves a valid write: \(stillServes.message)")
    #expect(om.fatalErrors.recorded.isEmpty, "\(om.fatalErrors.recorded)")
  }
}
