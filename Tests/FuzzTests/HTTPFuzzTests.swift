import O3TestSupport
import Testing

/// Fuzzed HTTP requests against an in-process OM's HTTP port (status page, /prom,
/// /v2/dbCheckpoint): intact requests get their status, broken ones a well-formed answer or a
/// close, nothing is written, nothing is left behind, and the OM keeps serving.
@Suite(.watchdog, .serialized) struct HTTPFuzzTests {
  @Test func fuzzedHTTPRequestsAreAnsweredOrClosed() async throws {
    let settings = FuzzSettings(fuzzer: "HTTPFuzzTests", defaultIterations: 80)
    let findings = FuzzFindings()
    let om = try await InProcessOM.start("http")
    var random = settings.makeRandom()
    try await HTTPFuzzer(target: om, dataDirectory: om.directory.path, findings: findings)
      .run(iterations: settings.iterations, random: &random)
    let stillServes = try await om.submitValid(OMRequestCorpus.createVolume("fz-after", random: &random))
    await om.shutdown()
    findings.printSummaryIfVerbose(settings)
    #expect(findings.recorded.isEmpty, "\(findings.summary(settings))")
    #expect(stillServes.status == .ok, "the OM still serves a valid write: \(stillServes.message)")
    #expect(om.fatalErrors.recorded.isEmpty, "\(om.fatalErrors.recorded)")
  }
}
