import O3Common
import O3TestSupport
import Testing

/// Ozone's HA keys read the same way for every replicated server: which service, which nodes,
/// which node this process is.
@Suite(.watchdog) struct ServiceIdentityTests {
  @Test func withoutServiceIDsThereIsOneNodeAndNoService() throws {
    let om = try ServiceIdentity(configuration: OzoneConfiguration([:]), keys: .om)
    #expect(om.serviceID == nil)
    #expect(om.nodeIDs == ["om1"])
    #expect(om.localNodeID == "om1")
    let scm = try ServiceIdentity(configuration: OzoneConfiguration([:]), keys: .scm)
    #expect(scm.nodeIDs == ["scm1"])
  }

  @Test func theNodeIDPicksTheLocalNodeOfTheFirstService() throws {
    let configuration = OzoneConfiguration([
      "ozone.scm.service.ids": "scmservice, other", "ozone.scm.nodes.scmservice": "scm1, scm2,scm3",
      "ozone.scm.node.id": "scm2",
    ])
    let identity = try ServiceIdentity(configuration: configuration, keys: .scm)
    #expect(identity.serviceID == "scmservice")
    #expect(identity.nodeIDs == ["scm1", "scm2", "scm3"])
    #expect(identity.localNodeID == "scm2")
    #expect(ServiceKeys.scm.perNode("address", service: "scmservice", node: "scm2") == "ozone.scm.address.scmservice.scm2")
  }

  @Test func theInternalServiceIDChoosesAmongSeveral() throws {
    let configuration = OzoneConfiguration([
      "ozone.om.service.ids": "a,b", "ozone.om.internal.service.id": "b", "ozone.om.nodes.b": "om7",
    ])
    let identity = try ServiceIdentity(configuration: configuration, keys: .om)
    #expect(identity.serviceID == "b")
    #expect(identity.localNodeID == "om7", "a service of one node needs no node id")
  }

  @Test func clientsNeedNoNodeID() throws {
    let configuration = OzoneConfiguration(["ozone.om.service.ids": "svc", "ozone.om.nodes.svc": "om1,om2,om3"])
    #expect(try ServiceIdentity(configuration: configuration, keys: .om, requireLocalNode: false).localNodeID == "om1")
    let error = #expect(throws: ConfigurationError.self) { try ServiceIdentity(configuration: configuration, keys: .om) }
    #expect(error?.key == "ozone.om.node.id")
    #expect(error?.message.contains("om1,om2,om3") == true)
  }

  @Test func badKeysAreNamed() throws {
    let noNodes = #expect(throws: ConfigurationError.self) {
      try ServiceIdentity(configuration: OzoneConfiguration(["ozone.scm.service.ids": "s"]), keys: .scm)
    }
    #expect(noNodes?.key == "ozone.scm.nodes.s")
    #expect(noNodes?.message.contains("SCM node ids") == true)
    let stranger = #expect(throws: ConfigurationError.self) {
      try ServiceIdentity(
        configuration: OzoneConfiguration([
          "ozone.scm.service.ids": "s", "ozone.scm.nodes.s": "scm1,scm2", "ozone.scm.node.id": "scm9",
        ]), keys: .scm)
    }
    #expect(stranger?.key == "ozone.scm.node.id")
    #expect(stranger?.message.contains("'scm9' is not one of ozone.scm.nodes.s") == true)
  }

  @Test func anAddressBookKeepsOrderAndReplacesByNodeID() {
    struct Node: ServiceNode, Equatable {
      var nodeID: String
      var port: Int
    }
    let book = ServiceAddressBook([Node(nodeID: "a", port: 1), Node(nodeID: "b", port: 2)])
    book.record(Node(nodeID: "c", port: 3))
    book.record(Node(nodeID: "a", port: 9))
    #expect(book.nodes == [Node(nodeID: "a", port: 9), Node(nodeID: "b", port: 2), Node(nodeID: "c", port: 3)])
  }
}
