import Foundation
import O3Common
import OzoneManager
import O3TestSupport
import Testing

/// `o3 om --bootstrap` with real processes: a fourth OM joins a running three-OM service under a
/// write load, and the configuration check refuses (or, forced, skips) OMs that do not list it.
@Suite(.watchdog, .serialized) struct BootstrapTests {
  @Test func aFourthOMJoinsUnderLoadCatchesUpAndHoldsEveryAcknowledgedKey() async throws {
    let cluster = try await MembershipCluster.start()
    defer { cluster.stopAll() }
    let writes = AcknowledgedWrites(client: try await cluster.client())
    try await writes.prepare()
    let load = writes.start(clients: 3)
    // Enough entries that the leader has purged the start of its log: om4 needs a checkpoint.
    try await cluster.waitUntil("the load is under way") { writes.count >= 200 }

    // The operator lists om4 in every running OM's file (they re-read it when asked) and in its own.
    for node in cluster.foundingNodeIDs + ["om4"] { try await cluster.writeConfiguration(node, listing: cluster.layout) }
    let om4 = try await cluster.launch("om4", ["--bootstrap"])
    let joined = await om4.waitForOutput(containing: "om4 joined the OM service as a voter")
    try #require(joined, "om4 did not join:\n\(om4.standardOutput)\n\(om4.standardError)")
    #expect(om4.standardOutput.contains("the configurations of om1,om2,om3 list om4"))
    #expect(om4.standardError.contains("checkpoint"), "om4 caught up past the leader's purged log by a checkpoint")
    let clientFile = try await cluster.clientConfigurationFile(listing: cluster.layout)
    try await cluster.waitUntil("roles shows om4 as a follower") { try await cluster.roles(clientFile)["om4"] == "FOLLOWER" }

    let atJoin = writes.count
    try await cluster.waitUntil("writes continue with four voters") { writes.count >= atJoin + 60 }
    writes.stop()
    await load.value
    for node in cluster.foundingNodeIDs + ["om4"] {
      let missing = try await writes.missing(on: node, in: cluster)
      #expect(missing.isEmpty, "\(node) lacks acknowledged keys \(missing.prefix(5))")
    }

    // The new voter can lead: the service writes through it.
    let leader = try await cluster.leader()
    let transfer = try await OMAdminClient.transfer(at: cluster.address(of: leader), OMTransferRequest(targetNodeId: "om4"))
    #expect(transfer.leaderId == "om4")
    // Every founding OM names the new leader by its node id (their address books learned om4).
    for node in cluster.foundingNodeIDs {
      try await cluster.waitUntil("\(node) names om4 as its leader") {
        (try? await OMAdminClient.roles(at: cluster.address(of: node), timeout: .seconds(2)))?.leaderId == "om4"
      }
    }
    let fourNodeClient = try await cluster.client(listing: cluster.layout)
    try await fourNodeClient.putKey(AcknowledgedWrites.volume, AcknowledgedWrites.bucket, "through-om4", dataSize: 4)
    #expect(try await fourNodeClient.keyInfo(AcknowledgedWrites.volume, AcknowledgedWrites.bucket, "through-om4").dataSize == 4)
    await fourNodeClient.close()

    // Restarted without --bootstrap, om4 comes back with the membership it recorded.
    #expect(await cluster.terminate("om4") == 0, "SIGTERM stops om4 cleanly")
    try await cluster.launch("om4")
    try await cluster.waitUntil("om4 is a voter again after its restart") {
      ["FOLLOWER", "LEADER"].contains(try await cluster.roles(clientFile)["om4"])
    }
    let missingAfterRestart = try await writes.missing(on: "om4", in: cluster)
    #expect(missingAfterRestart.isEmpty, "om4 lacks \(missingAfterRestart.prefix(5)) after its restart")
    await writes.client.close()
  }

  @Test func bootstrapIsRefusedWhileAnOMDoesNotListTheNewNodeAndForcedAnyway() async throws {
    let cluster = try await MembershipCluster.start()
    defer { cluster.stopAll() }
    // Only om2's file lists om4 yet.
    try await cluster.writeConfiguration("om2", listing: cluster.layout)
    try await cluster.writeConfiguration("om4", listing: cluster.layout)

    let refused = try await O3Binary.run(["om", "--conf", cluster.configurationFile("om4"), "--bootstrap"])
    #expect(refused.exitCode == 1)
    #expect(refused.standardError.contains("cannot bootstrap om4: OM(s) om1,om3 do not list it"), "\(refused.standardError)")
    #expect(refused.standardError.contains("--force"))
    let storage = try OMStorage(configuration: try cluster.layout.serverConfiguration(cluster.node("om4")))
    #expect(!storage.isInitialized, "a refused bootstrap leaves nothing behind")

    let om4 = try await cluster.launch("om4", ["--bootstrap", "--force"])
    let joined = await om4.waitForOutput(containing: "om4 joined the OM service as a voter")
    try #require(joined, "om4 did not join:\n\(om4.standardOutput)\n\(om4.standardError)")
    // Roles follows the leader's membership, so om4 shows even through a file that does not list it.
    let threeNodeFile = try await cluster.clientConfigurationFile(listing: cluster.founders)
    try await cluster.waitUntil("roles shows om4 as a follower") { try await cluster.roles(threeNodeFile)["om4"] == "FOLLOWER" }

    let client = try await cluster.client()
    try await client.createVolume("forced")
    await client.close()
    let pinned = try await cluster.pinnedClient("om4")
    #expect(try await pinned.volumeInfo("forced").volume == "forced")
    await pinned.close()
  }
}
