import Foundation
import O3Common
import OMDomain
import OMProto
import OzoneClient
import OzoneManager
import O3TestSupport
import Testing

/// `o3 admin om prepare` on three real OMs: every OM prepares at the same index and purges its
/// log, writes are refused with a status clients do not fail over on, reads still work, a
/// restart keeps the OMs prepared, and CancelPrepare lets writes in again.
@Suite(.watchdog, .serialized) struct PrepareClusterTests {
  /// Small segments, so that the log spans several and the purge at Prepare shows.
  static let configuration = ["ozone.om.ratis.segment.size": "4KB"]

  /// `request` with its own call id, so that the retry cache does not answer it as a retry.
  static func distinct(_ request: OMRequest, _ callID: Int) -> OMRequest {
    var request = request
    request.callID = UInt64(callID)
    return request
  }

  static func status(_ cluster: OMCluster, _ node: String) async throws -> PrepareStatusResponse {
    let response = try await cluster.submit(
      Requests.envelope(.prepareStatus, .prepareStatusRequest(PrepareStatusRequest())), to: node)
    #expect(response.status == .ok, "every OM answers PrepareStatus itself: \(response.message)")
    return response.prepareStatusResponse
  }

  static func waitUntilPrepared(_ cluster: OMCluster, at index: UInt64) async throws {
    for node in OMCluster.nodeIDs {
      try await cluster.waitUntil("\(node) reports itself prepared at \(index)") {
        let status = try await status(cluster, node)
        return status.status == .prepareCompleted && status.currentTxnIndex == index
      }
    }
  }

  @Test func everyOMPreparesPurgesItsLogAndRefusesWrites() async throws {
    let cluster = try await OMCluster.start(configuration: Self.configuration)
    // Leadership may move while this runs (a loaded machine): every call goes to the OM that
    // leads at that moment.
    for number in 1...150 {
      try await cluster.expectOKOnLeader(Self.distinct(Requests.createVolume("volume\(number)"), number))
    }
    let segmentsBefore = cluster.servers[try await cluster.leader()]!.raft.logDiskUsage.segments
    #expect(segmentsBefore > 2, "the log spans several 4 KB segments")

    let prepare = try await cluster.submitToLeader(Self.distinct(PrepareApplyTests.prepare(), 1_000))
    #expect(prepare.status == .ok, "\(prepare.message)")
    let index = prepare.prepareResponse.txnID
    try await Self.waitUntilPrepared(cluster, at: index)
    for node in OMCluster.nodeIDs {
      let server = cluster.servers[node]!
      try await cluster.waitUntil("\(node) purged its log through the Prepare") { server.raft.lastSnapshot.index >= index }
      #expect(server.raft.logDiskUsage.segments == 1, "\(node): only the open segment is left")
      let marker = OMPrepareState.markerPath(server.settings.storage)
      #expect(try String(contentsOfFile: marker, encoding: .utf8) == "\(index)", "\(node) wrote Ozone's prepareMarker")
    }

    let refused = try await cluster.submitToLeader(Self.distinct(Requests.createVolume("refused"), 1_001))
    #expect(refused.status == .notSupportedOperationWhenPrepared)
    #expect(refused.message.contains("prepare mode"))
    #expect(try await cluster.submitToLeader(Requests.infoVolume("volume7")).status == .ok, "reads are served")

    // A client gets the refusal as the call's result, after one try: no failover on it.
    let client = try await OzoneClient.connect(
      to: HostAndPort(host: "127.0.0.1", port: cluster.servers[try await cluster.leader()]!.port), userName: "alice",
      failover: OMFailoverPolicy(maxAttempts: 0))
    await #expect {
      try await client.call(.createVolume, Requests.createVolume("through-client").body!)
    } throws: { ($0 as? OzoneClientError)?.status == .notSupportedOperationWhenPrepared }
    await client.close()
    #expect(cluster.fatalErrors.recorded.isEmpty)
    await cluster.shutdown()
  }

  @Test func aRestartKeepsThemPreparedAndCancelPrepareLetsWritesIn() async throws {
    let cluster = try await OMCluster.start(configuration: Self.configuration)
    try await cluster.expectOKOnLeader(Self.distinct(Requests.createVolume("before"), 1))
    let index = try await cluster.submitToLeader(Self.distinct(PrepareApplyTests.prepare(), 2)).prepareResponse.txnID
    try await Self.waitUntilPrepared(cluster, at: index)

    for node in OMCluster.nodeIDs { await cluster.stop(node) }
    for node in OMCluster.nodeIDs { try await cluster.start(node) }
    try await Self.waitUntilPrepared(cluster, at: index)
    #expect(
      try await cluster.submitToLeader(Self.distinct(Requests.createVolume("after-restart"), 3)).status
        == .notSupportedOperationWhenPrepared)

    let cancel = try await cluster.submitToLeader(Self.distinct(PrepareApplyTests.cancel, 4))
    #expect(cancel.status == .ok, "\(cancel.message)")
    for node in OMCluster.nodeIDs {
      try await cluster.waitUntil("\(node) is no longer prepared") {
        try await Self.status(cluster, node).status == .notPrepared
      }
      #expect(!FileManager.default.fileExists(atPath: OMPrepareState.markerPath(cluster.servers[node]!.settings.storage)))
    }
    try await cluster.expectOKOnLeader(Self.distinct(Requests.createVolume("after-cancel"), 5))
    try await cluster.waitUntil("every OM holds the same tables") {
      let digests = try OMCluster.nodeIDs.map { try cluster.digest($0) }
      return digests.allSatisfy { $0 == digests[0] }
        && digests[0].contains { $0.table == "volumeTable" && $0.key == Array("/after-cancel".utf8) }
    }
    #expect(cluster.fatalErrors.recorded.isEmpty)
    await cluster.shutdown()
  }
}
