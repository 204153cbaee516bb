import Foundation
import NIOCore
import NIOPosix
import O3Common
import O3RPC
import O3TestSupport
import OMMetadata
import OMProto
import OzoneManager

/// Three OMs of service `omservice` in this process, on free ports, for fuzzing the Raft port.
final class InProcessCluster: Sendable {
  static let nodeIDs = ["om1", "om2", "om3"]
  let directory: TemporaryDirectory
  let servers: [String: OzoneManagerServer]
  let fatalErrors: FatalErrors

  private init(directory: TemporaryDirectory, servers: [String: OzoneManagerServer], fatalErrors: FatalErrors) {
    self.directory = directory
    self.servers = servers
    self.fatalErrors = fatalErrors
  }

  static func start(_ label: String) async throws -> InProcessCluster {
    let directory = TemporaryDirectory(label)
    var clientPorts: [String: Int] = [:]
    var raftPorts: [String: Int] = [:]
    for node in nodeIDs {
      clientPorts[node] = try freePort()
      raftPorts[node] = try freePort()
    }
    let fatalErrors = FatalErrors()
    var servers: [String: OzoneManagerServer] = [:]
    for node in nodeIDs {
      var values = [
        "ozone.om.service.ids": "omservice", "ozone.om.nodes.omservice": nodeIDs.joined(separator: ","),
        "ozone.om.node.id": node, OzoneConfigKeys.metadataDirs: "\(directory.path)/\(node)",
        // Long enough that a busy machine rarely holds an election the fuzzer did not cause.
        "ozone.om.ratis.minimum.timeout": "2s",
      ]
      for peer in nodeIDs {
        values["ozone.om.address.omservice.\(peer)"] = "127.0.0.1:\(clientPorts[peer]!)"
        values["ozone.om.ratis.port.omservice.\(peer)"] = "\(raftPorts[peer]!)"
        values["ozone.om.http-address.omservice.\(peer)"] = "127.0.0.1:0"
      }
      let settings = try OzoneManagerServer.Settings(configuration: OzoneConfiguration(values))
      try await settings.storage.initialize()
      servers[node] = try await OzoneManagerServer.start(
        settings: settings, group: FuzzEventLoops.group, logger: quietLogger(node),
        onFatalError: fatalErrors.record)
    }
    return InProcessCluster(directory: directory, servers: servers, fatalErrors: fatalErrors)
  }

  /// Each member's Raft peer id and port.
  var raftPorts: [UInt64: Int] {
    Dictionary(uniqueKeysWithValues: servers.values.map { ($0.raft.id.rawValue, $0.settings.service.local.raftAddress.port) })
  }

  /// The node that leads and is ready (generous deadline).
  func leader() async throws -> String {
    var found: String?
    try await waitUntil("a ready leader", timeout: .seconds(60)) {
      found = Self.nodeIDs.first { servers[$0]!.raft.isLeaderReady }
      return found != nil
    }
    return found!
  }

  /// Each node's Raft term.
  func terms() async -> [String: UInt64] {
    var terms: [String: UInt64] = [:]
    for node in Self.nodeIDs { terms[node] = await servers[node]!.raft.status()?.core.hardState.term }
    return terms
  }

  /// The volumes a node holds whose name starts with `prefix` (cache included).
  func volumes(on node: String, prefix: String) throws -> [String] {
    try servers[node]!.store.volumeTable.list(prefix: Array("/\(prefix)".utf8), startAfter: nil, limit: 1_000).rows.map {
      $0.value.volume
    }
  }

  /// Sends one valid request to `node`'s client port.
  func submit(_ request: OMRequest, to node: String) async throws -> OMResponse {
    let client = try await RPCClient.connect(
      host: "127.0.0.1", port: servers[node]!.port, group: FuzzEventLoops.group)
    defer { Task { await client.close() } }
    let reply = try await client.call(method: "om.submitRequest", payload: try request.serializedBytes(), deadline: .seconds(60))
    return try OMResponse(serializedBytes: reply)
  }

  /// Waits until every replica has applied the creation of `volume`.
  func waitUntilEveryNodeHas(volume: String) async throws {
    try await waitUntil("every replica has volume \(volume)", timeout: .seconds(60)) {
      try Self.nodeIDs.allSatisfy { try servers[$0]!.store.volumeTable.get(Array("/\(volume)".utf8)) != nil }
    }
  }

  func shutdown() async {
    for server in servers.values { await server.shutdown() }
  }

  private static func freePort() throws -> Int { try FreePorts.allocate(1)[0] }
}
