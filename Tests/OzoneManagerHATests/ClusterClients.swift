import O3Common
import O3TestSupport
import OzoneClient
import OzoneManager

/// Clients and leader lookup shared by the process-cluster harnesses of this target.
enum ClusterClients {
  /// A failover client of `layout`'s OMs that retries quickly (100 ms, 300 attempts).
  static func failoverClient(_ layout: LocalServiceLayout, followerReads: Bool = false) async throws -> OzoneClient {
    var configuration = layout.clientConfiguration
    configuration["ozone.client.wait.between.retries.millis"] = "100"
    configuration["ozone.client.failover.max.attempts"] = "300"
    configuration["ozone.client.follower.read.enabled"] = followerReads ? "true" : "false"
    return try await OzoneClient.connect(configuration: configuration, userName: "tester")
  }

  /// A client pinned to the OM at `address`, whose reads that OM may answer as a follower (after
  /// a ReadIndex round with the leader).
  static func pinnedClient(_ address: HostAndPort) async throws -> OzoneClient {
    var policy = OMFailoverPolicy(maxAttempts: 50, waitBetweenRetriesMilliseconds: 100)
    policy.followerReadsEnabled = true
    return try await OzoneClient.connect(to: address, userName: "tester", failover: policy)
  }

  /// The ready leader, as every OM of `layout` reports it (generous deadline).
  static func leader(of layout: LocalServiceLayout) async throws -> String {
    let service = try OMServiceConfiguration(configuration: layout.clientConfiguration, requireLocalNode: false)
    var found: String?
    try await waitUntil("a ready leader", timeout: .seconds(120)) {
      let roles = await OMServiceRoles.collect(service, timeout: .seconds(2))
      found = roles.leader.flatMap { $0.status?.leaderReady == true ? $0.node.nodeID : nil }
      return found != nil
    }
    return found!
  }
}
