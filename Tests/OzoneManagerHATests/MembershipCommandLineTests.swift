import Foundation
import O3TestSupport
import Testing

/// How `o3 om --bootstrap` and `o3 admin om decommission` refuse bad command lines, before
/// anything is started or asked.
@Suite(.watchdog) struct MembershipCommandLineTests {
  @Test func bootstrapFlagsThatDoNotGoTogetherAreUsageErrors() async throws {
    let forceAlone = try await O3Binary.run(["om", "--force", "--set", "ozone.metadata.dirs=/nonexistent"])
    #expect(forceAlone.exitCode == 2)
    #expect(forceAlone.standardError.contains("--force only applies to --bootstrap"), "\(forceAlone.standardError)")
    let both = try await O3Binary.run(["om", "--init", "--bootstrap", "--set", "ozone.metadata.dirs=/nonexistent"])
    #expect(both.exitCode == 2)
    #expect(both.standardError.contains("at most one of --init and --bootstrap"), "\(both.standardError)")
  }

  @Test func bootstrapNeedsAServiceWithOtherOMs() async throws {
    let directory = TemporaryDirectory()
    let single = try await O3Binary.run(["om", "--bootstrap", "--set", "ozone.metadata.dirs=\(directory.path)"])
    #expect(single.exitCode == 1)
    #expect(single.standardError.contains("--bootstrap joins an OM service"), "\(single.standardError)")
    #expect(!FileManager.default.fileExists(atPath: "\(directory.path)/om/current/VERSION"), "nothing was initialised")
  }

  @Test func decommissionNeedsANodeIDAndChecksTheGivenHost() async throws {
    let missing = try await O3Binary.run(["admin", "om", "decommission"])
    #expect(missing.exitCode == 2)
    #expect(missing.standardError.contains("--nodeid"), "\(missing.standardError)")
    let wrongHost = try await O3Binary.run([
      "admin", "om", "decommission", "-nodeid", "om2", "--node-host-address", "elsewhere.example",
      "--set", "ozone.om.service.ids=svc", "--set", "ozone.om.nodes.svc=om1,om2",
      "--set", "ozone.om.address.svc.om1=127.0.0.1:1", "--set", "ozone.om.address.svc.om2=127.0.0.1:2",
    ])
    #expect(wrongHost.exitCode == 2)
    #expect(wrongHost.standardError.contains("om2's host in the configuration is 127.0.0.1"), "\(wrongHost.standardError)")
  }
}
