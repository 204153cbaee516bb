import O3TestSupport
import Testing

/// Fuzzed OM requests against an OM in this process: every one answered, the invalid ones with
/// the status validation gives, none of them writing, and every row left in the tables within
/// Ozone's naming and size rules (checked without the OM's validation code).
@Suite(.watchdog, .serialized) struct OMRequestFuzzTests {
  @Test func fuzzedRequestsAreAnsweredAndInvalidOnesWriteNothing() async throws {
    let settings = FuzzSettings(fuzzer: "OMRequestFuzzTests", defaultIterations: 300)
    let findings = FuzzFindings()
    let om = try await InProcessOM.start("requests")
    var random = settings.makeRandom()
    try await OMRequestFuzzer(target: om, findings: findings).run(iterations: settings.iterations, random: &random)
    let stillServes = try await om.submitValid(OMRequestCorpus.createVolume("fz-after", random: &random))
    let invalidRows = try NamespaceInvariants.problems(in: om.server.store)
    await om.shutdown()
    findings.printSummaryIfVerbose(settings)
    #expect(findings.recorded.isEmpty, "\(findings.summary(settings))")
    #expect(invalidRows.isEmpty, "rows that break the naming and size rules: \(invalidRows.prefix(10))")
    #expect(stillServes.status == .ok, "the OM still serves a valid write: \(stillServes.message)")
    #expect(om.fatalErrors.recorded.isEmpty, "\(om.fatalErrors.recorded)")
  }
}
