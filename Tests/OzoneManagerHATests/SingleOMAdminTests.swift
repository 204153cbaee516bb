import Foundation
import O3Common
import OzoneManager
import O3TestSupport
import Testing

/// The admin protocol and the HTTP port of a real single-replica OM in this process.
@Suite(.watchdog) struct SingleOMAdminTests {
  /// A one-replica OM on free ports (HTTP included: its port follows the client port's 0).
  private func startOM(_ directory: TemporaryDirectory) async throws -> OzoneManagerServer {
    let settings = try OzoneManagerServer.Settings(
      configuration: OzoneConfiguration([
        OzoneConfigKeys.metadataDirs: directory.path, OzoneConfigKeys.omAddress: "127.0.0.1:0", "ozone.om.ratis.port": "0",
      ]))
    try await settings.storage.initialize()
    return try await OzoneManagerServer.start(settings: settings, onFatalError: { error in Issue.record("fatal: \(error)") })
  }

  @Test func rolesReportsTheLeaderWithItsIndexesAndBoundAddresses() async throws {
    let directory = TemporaryDirectory()
    let server = try await startOM(directory)
    let (port, httpPort) = (server.port, server.httpPort)
    let status = try await OMAdminClient.roles(at: HostAndPort(host: "127.0.0.1", port: port))
    await server.shutdown()
    #expect(status.nodeId == "om1")
    #expect(status.serviceId == nil)
    #expect(status.role == .leader)
    #expect(status.leaderId == "om1")
    #expect(status.leaderReady)
    #expect(status.term >= 1)
    #expect(status.appliedIndex >= 1 && status.appliedIndex <= status.commitIndex)
    #expect(status.clientAddress == "127.0.0.1:\(port)")
    #expect(status.httpAddress == "127.0.0.1:\(httpPort)")
    #expect(httpPort != 0 && httpPort != 9874)
    #expect(status.peers.map(\.nodeId) == ["om1"])
  }

  @Test func transferRefusesUnknownNodesAndIsANoOpToItself() async throws {
    let directory = TemporaryDirectory()
    let server = try await startOM(directory)
    let address = HostAndPort(host: "127.0.0.1", port: server.port)
    let toSelf = try await OMAdminClient.transfer(at: address, OMTransferRequest(targetNodeId: "om1"))
    #expect(toSelf == OMTransferResult(previousLeaderId: "om1", leaderId: "om1", term: toSelf.term))
    await #expect(throws: OMAdminError.self) {
      _ = try await OMAdminClient.transfer(at: address, OMTransferRequest(targetNodeId: "om7"))
    }
    do {
      _ = try await OMAdminClient.transfer(at: address, OMTransferRequest(targetNodeId: nil))
      Issue.record("a group of one has no follower to hand over to")
    } catch {
      #expect(error.code == .noEligibleFollower)
    }
    await server.shutdown()
  }

  @Test func promServesRaftGaugesAndTheApplyAndSyncHistograms() async throws {
    let directory = TemporaryDirectory()
    let server = try await startOM(directory)
    let reply = try await HTTP.request(port: server.httpPort, path: "/prom")
    let head = try await HTTP.request(port: server.httpPort, path: "/prom", method: "HEAD")
    await server.shutdown()
    #expect(reply.status == 200)
    #expect(reply.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8")
    let page = reply.body
    #expect(try #require(prometheusValue(page, "o3_om_raft_term")) >= 1)
    #expect(prometheusValue(page, "o3_om_raft_is_leader") == 1)
    #expect(prometheusValue(page, "o3_om_raft_leader_ready") == 1)
    #expect(try #require(prometheusValue(page, "o3_om_raft_applied_index")) >= 1)
    #expect(try #require(prometheusValue(page, "o3_om_raft_log_sync_duration_seconds_count")) >= 1)
    #expect(try #require(prometheusValue(page, "o3_om_apply_duration_seconds_count")) >= 1)
    #expect(prometheusValue(page, "o3_om_double_buffer_unflushed_transactions") != nil)
    #expect(page.contains("# TYPE o3_om_double_buffer_flush_transactions histogram\n"))
    #expect(page.contains("# TYPE o3_om_requests_total counter\n"))
    #expect(head.status == 200 && head.body.isEmpty)
  }

  @Test func statusPageShowsTheNodeAndUnknownPathsAndMethodsAreRefused() async throws {
    let directory = TemporaryDirectory()
    let server = try await startOM(directory)
    let page = try await HTTP.request(port: server.httpPort, path: "/?refresh=1")
    let missing = try await HTTP.request(port: server.httpPort, path: "/nope")
    let post = try await HTTP.request(port: server.httpPort, path: "/prom", method: "POST", body: Data("x".utf8))
    await server.shutdown()
    #expect(page.status == 200)
    #expect(page.headers["content-type"] == "text/html; charset=utf-8")
    #expect(page.body.contains("<th>Role</th><td>LEADER</td>"))
    #expect(page.body.contains("<th>Node</th><td>om1</td>"))
    #expect(page.body.contains("href=\"/prom\""))
    #expect(missing.status == 404)
    #expect(post.status == 405)
    #expect(post.headers["allow"] == "GET, HEAD")
  }
}
