import Foundation
import O3Common
import OzoneManager
import Synchronization
import O3TestSupport
import Testing

/// The membership admin calls (`om.admin.configuration`, `bootstrap`, `decommission`) against a
/// real one-OM service in this process, and the address book behind them.
@Suite(.watchdog) struct MembershipAdminTests {
  /// A configuration "file" the test edits while the OM runs.
  final class EditableConfiguration: Sendable {
    private let current: Mutex<OzoneConfiguration>
    init(_ configuration: OzoneConfiguration) { current = Mutex(configuration) }
    var value: OzoneConfiguration { current.withLock { $0 } }
    func set(_ key: String, _ value: String) { current.withLock { $0[key] = value } }
  }

  static func serviceConfiguration(_ directory: String) -> OzoneConfiguration {
    OzoneConfiguration([
      "ozone.om.service.ids": "omservice", "ozone.om.nodes.omservice": "om1", "ozone.om.node.id": "om1",
      "ozone.om.address.omservice.om1": "127.0.0.1:0", "ozone.om.ratis.port.omservice.om1": "0",
      OzoneConfigKeys.metadataDirs: directory,
    ])
  }

  /// Lists om2 in `file` at client port `port`, Raft port `port + 1`.
  static func addOM2(to file: EditableConfiguration, port: Int) {
    file.set("ozone.om.nodes.omservice", "om1,om2")
    file.set("ozone.om.address.omservice.om2", "127.0.0.1:\(port)")
    file.set("ozone.om.ratis.port.omservice.om2", "\(port + 1)")
  }

  private func startOM(_ directory: TemporaryDirectory, file: EditableConfiguration) async throws -> OzoneManagerServer {
    var settings = try OzoneManagerServer.Settings(configuration: file.value)
    settings.reloadConfiguration = { file.value }
    try await settings.storage.initialize()
    return try await OzoneManagerServer.start(settings: settings, onFatalError: { error in Issue.record("fatal: \(error)") })
  }

  @Test func theConfigurationCallRereadsTheFileAndTheOMLearnsTheNewNode() async throws {
    let directory = TemporaryDirectory()
    let file = EditableConfiguration(Self.serviceConfiguration(directory.path))
    let server = try await startOM(directory, file: file)
    let address = HostAndPort(host: "127.0.0.1", port: server.port)
    let before = try await OMAdminClient.configuration(at: address)
    #expect(before.serviceId == "omservice" && before.nodeId == "om1")
    #expect(before.nodes.map(\.nodeId) == ["om1"])
    #expect(server.settings.service.node(withID: "om2") == nil)

    Self.addOM2(to: file, port: 4000)
    let after = try await OMAdminClient.configuration(at: address)
    await server.shutdown()
    #expect(after.nodes.map(\.nodeId) == ["om1", "om2"])
    #expect(after.node("om2")?.clientAddress == "127.0.0.1:4000")
    #expect(after.node("om2")?.raftAddress == "127.0.0.1:4001")
    // The server's copies of the service configuration share the address book.
    #expect(server.settings.service.node(withID: "om2")?.raftAddress == HostAndPort(host: "127.0.0.1", port: 4001))
  }

  @Test func bootstrapRefusesOtherAddressesThenAddsALearnerThatDecommissionRemoves() async throws {
    let directory = TemporaryDirectory()
    let file = EditableConfiguration(Self.serviceConfiguration(directory.path))
    let server = try await startOM(directory, file: file)
    let address = HostAndPort(host: "127.0.0.1", port: server.port)
    Self.addOM2(to: file, port: 4000)

    // The leader's file says om2 is at 4000/4001; a node claiming other ports is refused.
    let elsewhere = OMNodeAddresses(
      nodeId: "om2", clientAddress: "127.0.0.1:5000", raftAddress: "127.0.0.1:5001", httpAddress: "127.0.0.1:5002")
    let mismatch = await #expect(throws: OMAdminError.self) {
      try await OMAdminClient.bootstrap(at: address, OMBootstrapRequest(node: elsewhere))
    }
    #expect(mismatch?.code == .addressMismatch)

    // At the listed addresses it becomes a learner; nothing runs there, so it never catches up.
    let listed = OMNodeAddresses(
      nodeId: "om2", clientAddress: "0.0.0.0:4000", raftAddress: "127.0.0.1:4001", httpAddress: "127.0.0.1:4002")
    let step = try await OMAdminClient.bootstrap(at: address, OMBootstrapRequest(node: listed))
    #expect(step.phase == .catchingUp)
    #expect(step.leaderId == "om1" && step.matchIndex == 0)
    let again = try await OMAdminClient.bootstrap(at: address, OMBootstrapRequest(node: listed))
    #expect(again.phase == .catchingUp, "a repeated step is idempotent")
    let roles = try await OMAdminClient.roles(at: address)
    #expect(roles.peer("om2")?.learner == true)
    #expect(roles.peer("om2")?.clientAddress == "127.0.0.1:4000")

    let unknown = await #expect(throws: OMAdminError.self) {
      try await OMAdminClient.decommission(at: address, OMDecommissionRequest(nodeId: "om9"))
    }
    #expect(unknown?.code == .notMember)
    // The only voter leads and has nobody to hand over to.
    let itself = await #expect(throws: OMAdminError.self) {
      try await OMAdminClient.decommission(at: address, OMDecommissionRequest(nodeId: "om1"))
    }
    #expect(itself?.code == .noEligibleFollower)
    let removed = try await OMAdminClient.decommission(at: address, OMDecommissionRequest(nodeId: "om2"))
    #expect(removed == OMDecommissionResult(nodeId: "om2", leaderId: "om1", term: removed.term, voters: ["om1"], learners: []))
    #expect(try await OMAdminClient.roles(at: address).peers.map(\.nodeId) == ["om1"])
    await server.shutdown()
  }

  @Test func reloadingLearnsAndUpdatesNodesButNeverTheLocalOneOrAnotherService() async throws {
    let file = EditableConfiguration(Self.serviceConfiguration("/unused"))
    let service = try OMServiceConfiguration(configuration: file.value)
    let copy = service
    Self.addOM2(to: file, port: 4000)
    file.set("ozone.om.address.omservice.om1", "127.0.0.1:9999")
    let reread = try service.reload(from: file.value)
    #expect(reread.nodes.map(\.nodeID) == ["om1", "om2"])
    #expect(copy.nodes.map(\.nodeID) == ["om1", "om2"], "copies share the address book")
    #expect(copy.local.clientAddress.port == 0, "the local node keeps the addresses it bound")
    Self.addOM2(to: file, port: 6000)
    try service.reload(from: file.value)
    #expect(copy.node(withID: "om2")?.clientAddress.port == 6000)
    #expect(copy.node(withPeerID: OMServiceConfiguration.peerID(of: "om2"))?.nodeID == "om2")

    var noService = file.value
    noService["ozone.om.service.ids"] = nil
    #expect(throws: ConfigurationError.self) { try service.reload(from: noService) }
    var noNodes = file.value
    noNodes["ozone.om.nodes.omservice"] = nil
    #expect(throws: ConfigurationError.self) { try service.reload(from: noNodes) }
  }

  @Test func addressesCompareByTheEndpointsAPeerDials() {
    let wildcard = OMNodeAddresses(nodeId: "om4", clientAddress: "0.0.0.0:9862", raftAddress: "0.0.0.0:9872", httpAddress: "x:1")
    let loopback = OMNodeAddresses(nodeId: "om4", clientAddress: "127.0.0.1:9862", raftAddress: "127.0.0.1:9872", httpAddress: "y:2")
    let otherRaft = OMNodeAddresses(nodeId: "om4", clientAddress: "127.0.0.1:9862", raftAddress: "127.0.0.1:9873", httpAddress: "y:2")
    #expect(wildcard.sameEndpoints(as: loopback))
    #expect(!loopback.sameEndpoints(as: otherRaft))
    #expect(throws: OMAdminError.self) {
      try OMNodeAddresses(nodeId: "om4", clientAddress: "nowhere:port", raftAddress: "a:1", httpAddress: "a:2").details()
    }
  }
}
