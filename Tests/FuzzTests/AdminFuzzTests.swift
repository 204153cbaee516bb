import O3RPC
import O3TestSupport
import Testing

/// Fuzzed JSON bodies for the admin methods against an in-process OM: every call answered with
/// JSON or an admin error code, nothing written, and the OM still leading and serving.
@Suite(.watchdog, .serialized) struct AdminFuzzTests {
  @Test func fuzzedAdminCallsAreAnsweredAndChangeNothing() async throws {
    let settings = FuzzSettings(fuzzer: "AdminFuzzTests", defaultIterations: 150)
    let findings = FuzzFindings()
    let om = try await InProcessOM.start("admin")
    let digest = try await om.stateDigest()
    let before = await om.server.status()
    var random = settings.makeRandom()
    try await AdminFuzzer(target: om, findings: findings).run(iterations: settings.iterations, random: &random)
    let after = await om.server.status()
    let unchanged = try await om.stateDigest() == digest
    let stillServes = try await om.submitValid(OMRequestCorpus.createVolume("fz-after", random: &random))
    await om.shutdown()
    findings.printSummaryIfVerbose(settings)
    #expect(findings.recorded.isEmpty, "\(findings.summary(settings))")
    #expect(unchanged, "admin calls changed the tables")
    #expect(after?.role == .leader && after?.term == before?.term, "leadership changed: \(String(describing: after))")
    #expect(after?.peers.map(\.nodeId) == before?.peers.map(\.nodeId), "membership changed")
    #expect(stillServes.status == .ok, "the OM still serves a valid write: \(stillServes.message)")
    #expect(om.fatalErrors.recorded.isEmpty, "\(om.fatalErrors.recorded)")
  }

  /// Bootstrap and decommission requests that are well-formed JSON but can never be admitted
  /// (an address no peer can dial, the only voter, a stranger): each refused, membership as it was.
  @Test func membershipRequestsThatCanNeverBeAdmittedChangeNothing() async throws {
    let settings = FuzzSettings(fuzzer: "AdminFuzzTests.membershipRequestsThatCanNeverBeAdmittedChangeNothing", defaultIterations: 60)
    let findings = FuzzFindings()
    let om = try await InProcessOM.start("admin-membership")
    let before = await om.server.status()
    var random = settings.makeRandom()
    let client = try await om.rpcClient()
    for iteration in 0..<settings.iterations where !findings.isFull {
      let (method, body) = AdminJSONMutator.membershipBody(random: &random)
      do {
        let reply = try await client.call(method: method, payload: body, deadline: .seconds(60))
        findings.fail(iteration, "\(method) admitted: \(String(decoding: reply.prefix(200), as: UTF8.self))", input: body)
      } catch RPCError.remote(let code, _) {
        findings.count("\(method) \(code)")
      }
    }
    await client.close()
    let after = await om.server.status()
    await om.shutdown()
    findings.printSummaryIfVerbose(settings)
    #expect(findings.recorded.isEmpty, "\(findings.summary(settings))")
    #expect(after?.peers.map(\.nodeId) == before?.peers.map(\.nodeId), "membership changed: \(after?.peers.map(\.nodeId) ?? [])")
    #expect(after?.role == .leader && after?.term == before?.term, "leadership changed")
  }
}
