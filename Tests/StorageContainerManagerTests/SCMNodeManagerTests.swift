import Foundation
import Logging
import O3Common
import O3TestSupport
import SCMProto
import Synchronization
import Testing

@testable import StorageContainerManager

/// A clock in milliseconds that moves only when the test moves it.
final class ManualMilliseconds: Sendable {
  private let now = Mutex<UInt64>(1_000)
  var value: UInt64 { now.withLock { $0 } }
  func advance(_ milliseconds: UInt64) { now.withLock { $0 += milliseconds } }
}

/// Node health by the time since the last heartbeat, registration and its refusals.
@Suite(.watchdog) struct SCMNodeManagerTests {
  private func manager(_ clock: ManualMilliseconds) throws -> SCMNodeManager {
    let settings = try SCMNodeManager.Settings(
      configuration: OzoneConfiguration([
        "ozone.scm.stale.node.interval": "3s", "ozone.scm.dead.node.interval": "6s", "ozone.scm.heartbeat.thread.interval": "1s",
      ]))
    return SCMNodeManager(settings: settings, clusterID: "CID-test", logger: Logger(label: "nodes"), clock: { clock.value })
  }

  private func registration(_ uuid: String, host: String = "dn1", ip: String = "10.0.0.1") -> SCMRegisterRequest {
    var request = SCMRegisterRequest()
    request.datanodeDetails.uuid = uuid
    request.datanodeDetails.hostName = host
    request.datanodeDetails.ipAddress = ip
    var storage = SCMStorageReport()
    storage.storageLocation = "/data/1"
    storage.capacity = 100
    storage.remaining = 60
    request.nodeReport.storageReport = [storage]
    return request
  }

  private func heartbeat(_ uuid: String) -> SCMHeartbeatRequest {
    var request = SCMHeartbeatRequest()
    request.datanodeDetails.uuid = uuid
    return request
  }

  @Test func healthyThenStaleThenDeadThenHealthyAgainOnAHeartbeat() throws {
    let clock = ManualMilliseconds()
    let nodes = try manager(clock)
    let uuid = UUID().uuidString.lowercased()
    let (registered, refusal) = nodes.register(registration(uuid), peerAddress: "127.0.0.1")
    #expect(refusal == nil && registered.errorCode == .success && registered.clusterID == "CID-test")
    #expect(registered.ipAddress == "127.0.0.1", "SCM records the address the call came from")
    #expect(nodes.count(in: .healthy) == 1)

    clock.advance(2_999)
    #expect(nodes.checkHealth().isEmpty)
    clock.advance(1)
    #expect(nodes.checkHealth().map(\.to) == [.stale])
    clock.advance(3_000)
    #expect(nodes.checkHealth().map(\.to) == [.dead])
    #expect(nodes.count(in: .dead) == 1)

    let answer = nodes.heartbeat(heartbeat(uuid))
    #expect(answer.commands.isEmpty && answer.datanodeUuid == uuid)
    #expect(nodes.count(in: .healthy) == 1, "a heartbeat brings a dead node back")
    #expect(nodes.allNodes().first?.node.report.storageReport.first?.capacity == 100, "the registration's node report is kept")
  }

  @Test func anUnknownDatanodesHeartbeatIsAnsweredWithReregisterAndChangesNothing() throws {
    let nodes = try manager(ManualMilliseconds())
    let answer = nodes.heartbeat(heartbeat(UUID().uuidString))
    #expect(answer.commands.map(\.commandType) == [.reregisterCommand])
    #expect(nodes.registeredCount == 0)
  }

  @Test func clashingOrMalformedIdentitiesAreRefusedAndChangeNothing() throws {
    let clock = ManualMilliseconds()
    let nodes = try manager(clock)
    let uuid = UUID().uuidString.lowercased()
    #expect(nodes.register(registration(uuid), peerAddress: "10.0.0.1").refusal == nil)

    let clash = nodes.register(registration(uuid, host: "dn2", ip: "10.0.0.2"), peerAddress: "10.0.0.2")
    #expect(clash.response.errorCode == .errorNodeNotPermitted)
    #expect(clash.refusal?.contains("is registered from dn1/10.0.0.1 and heartbeating") == true, "\(clash.refusal ?? "")")
    #expect(nodes.allNodes().first?.node.details.hostName == "dn1", "the registered node is unchanged")

    let restart = nodes.register(registration(uuid), peerAddress: "10.0.0.1")
    #expect(restart.refusal == nil, "the same node registering again (a restart) is welcome")

    clock.advance(3_000)
    nodes.checkHealth()
    #expect(nodes.register(registration(uuid, host: "dn2", ip: "10.0.0.2"), peerAddress: "10.0.0.2").refusal == nil,
      "once the old one is silent (STALE), the identity may move")

    let malformed = nodes.register(registration("not-a-uuid"), peerAddress: nil)
    #expect(malformed.response.errorCode == .errorNodeNotPermitted && malformed.refusal != nil)
    #expect(nodes.registeredCount == 1)
  }

  @Test func intervalsThatCannotWorkAreRefusedByKey() {
    let error = #expect(throws: ConfigurationError.self) {
      try SCMNodeManager.Settings(
        configuration: OzoneConfiguration(["ozone.scm.stale.node.interval": "10s", "ozone.scm.dead.node.interval": "5s"]))
    }
    #expect(error?.key == "ozone.scm.dead.node.interval")
  }
}
