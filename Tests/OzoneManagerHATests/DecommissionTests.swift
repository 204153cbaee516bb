import Foundation
import O3Common
import OzoneManager
import O3TestSupport
import Testing

/// `o3 admin om decommission` with real processes: a follower leaves under a write load, a
/// removal that would break the majority is refused, and the leader hands over before it leaves.
@Suite(.watchdog, .serialized) struct DecommissionTests {
  @Test func decommissioningAFollowerUnderLoadLosesNothingAcknowledged() async throws {
    let cluster = try await MembershipCluster.start()
    defer { cluster.stopAll() }
    let writes = AcknowledgedWrites(client: try await cluster.client())
    try await writes.prepare()
    let load = writes.start(clients: 3)
    try await cluster.waitUntil("the load is under way") { writes.count >= 50 }

    let leader = try await cluster.leader()
    let follower = try #require(cluster.foundingNodeIDs.first { $0 != leader })
    let clientFile = try await cluster.clientConfigurationFile(listing: cluster.founders)
    let result = try await O3Binary.run(["admin", "om", "decommission", "--nodeid", follower, "--conf", clientFile])
    #expect(result.exitCode == 0, "decommission: \(result.standardError)")
    #expect(result.standardOutput.contains("Decommissioned OM \(follower)"), "\(result.standardOutput)")
    #expect(await cluster.terminate(follower) == 0, "the operator stops the removed OM")

    let remaining = cluster.foundingNodeIDs.filter { $0 != follower }
    try await cluster.waitUntil("roles lists only the remaining OMs") {
      let roles = try await cluster.roles(clientFile)
      return Set(roles.keys) == Set(remaining) && roles.values.contains("LEADER")
    }
    let atRemoval = writes.count
    try await cluster.waitUntil("writes continue with two voters") { writes.count >= atRemoval + 60 }
    writes.stop()
    await load.value
    for node in remaining {
      let missing = try await writes.missing(on: node, in: cluster)
      #expect(missing.isEmpty, "\(node) lacks acknowledged keys \(missing.prefix(5))")
    }
    await writes.client.close()
  }

  @Test func aRemovalThatBreaksTheMajorityIsRefusedAndTheLeaderHandsOverBeforeItLeaves() async throws {
    let cluster = try await MembershipCluster.start()
    defer { cluster.stopAll() }
    let leader = try await cluster.leader()
    let followers = cluster.foundingNodeIDs.filter { $0 != leader }
    let (down, up) = (followers[0], followers[1])
    await cluster.kill(down)
    try await cluster.waitUntil("the leader no longer hears from \(down)") {
      let status = try? await OMAdminClient.roles(at: cluster.address(of: leader), timeout: .seconds(2))
      return status?.peer(down)?.recentlyActive == false
    }
    let clientFile = try await cluster.clientConfigurationFile(listing: cluster.founders)

    // Removing the live follower would leave the leader alone of two voters: refused.
    let refused = try await O3Binary.run(["admin", "om", "decommission", "--nodeid", up, "--conf", clientFile])
    #expect(refused.exitCode != 0)
    #expect(refused.standardError.contains("QUORUM_AT_RISK"), "\(refused.standardError)")
    #expect(try await cluster.roles(clientFile)[up] == "FOLLOWER", "\(up) is still a member")

    // Removing the dead one leaves two live voters of two: allowed.
    let removed = try await O3Binary.run(["admin", "om", "decommission", "--nodeid", down, "--conf", clientFile])
    #expect(removed.exitCode == 0, "decommission \(down): \(removed.standardError)")

    // The leader is never removed while it leads: it hands over to the other voter, who removes it.
    let handedOver = try await O3Binary.run(["admin", "om", "decommission", "--nodeid", leader, "--conf", clientFile])
    #expect(handedOver.exitCode == 0, "decommission \(leader): \(handedOver.standardError)")
    #expect(handedOver.standardOutput.contains("handed leadership to \(up)"), "\(handedOver.standardOutput)")
    #expect(handedOver.standardOutput.contains("voters are now \(up) "), "\(handedOver.standardOutput)")
    try await cluster.waitUntil("\(up) leads alone") { try await cluster.roles(clientFile) == [up: "LEADER"] }

    let client = try await cluster.client()
    try await client.createVolume("alone")
    await client.close()
  }
}
