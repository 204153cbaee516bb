import O3Common
import RaftCore

/// One OM of the service as the configuration describes it.
public struct OMNodeDetails: Sendable, Hashable {
  public var nodeID: String
  /// The Raft peer id: a stable hash of the node id, so every OM derives the same one.
  public var peerID: PeerID
  public var clientAddress: HostAndPort
  public var raftAddress: HostAndPort
  public var httpAddress: HostAndPort
}

/// The OM service (Ozone's HA keys) and which of its nodes this process is.
///
/// With `ozone.om.service.ids` unset there is one OM, node `om1`, at `ozone.om.address`: a
/// one-replica Raft group, as Ozone 2.x runs a single OM.
public struct OMServiceConfiguration: Sendable {
  public var serviceID: String?
  public var nodes: [OMNodeDetails]
  public var localNodeID: String

  public var local: OMNodeDetails { nodes.first { $0.nodeID == localNodeID }! }

  public static let defaultRaftPort = 9872
  public static let defaultHTTPPort = 9874

  /// Reads the service from Ozone's keys; `requireLocalNode` is false for clients.
  public init(configuration: OzoneConfiguration, requireLocalNode: Bool = true) throws {
    guard let serviceIDs = configuration["ozone.om.service.ids"], !serviceIDs.isEmpty else {
      self.serviceID = nil
      let client = try configuration.hostAndPort(
        OzoneConfigKeys.omAddress, defaultHost: "0.0.0.0", defaultPort: OzoneConfigKeys.omAddressDefaultPort)
      let raftPort = try configuration.integer("ozone.om.ratis.port", default: Self.defaultRaftPort)
      let http = try configuration.hostAndPort(
        "ozone.om.http-address", defaultHost: client.host, defaultPort: Self.defaultHTTPPort)
      nodes = [
        OMNodeDetails(
          nodeID: "om1", peerID: Self.peerID(of: "om1"), clientAddress: client,
          raftAddress: HostAndPort(host: client.host, port: raftPort), httpAddress: http)
      ]
      localNodeID = "om1"
      return
    }
    let service = configuration.string(
      "ozone.om.internal.service.id", default: String(serviceIDs.split(separator: ",")[0]).trimmingCharacters(in: .whitespaces))
    self.serviceID = service
    let nodeIDs = (configuration["ozone.om.nodes.\(service)"] ?? "").split(separator: ",").map {
      $0.trimmingCharacters(in: .whitespaces)
    }
    guard !nodeIDs.isEmpty else {
      throw ConfigurationError(key: "ozone.om.nodes.\(service)", message: "is not set; it lists the OM node ids of service \(service)")
    }
    nodes = try nodeIDs.map { try Self.node($0, service: service, configuration: configuration) }
    if let local = configuration["ozone.om.node.id"], !local.isEmpty {
      guard nodeIDs.contains(local) else {
        throw ConfigurationError(key: "ozone.om.node.id", message: "'\(local)' is not one of ozone.om.nodes.\(service) (\(nodeIDs.joined(separator: ",")))")
      }
      localNodeID = local
    } else if !requireLocalNode || nodeIDs.count == 1 {
      localNodeID = nodeIDs[0]
    } else {
      throw ConfigurationError(key: "ozone.om.node.id", message: "is not set; it names which of \(nodeIDs.joined(separator: ",")) this OM is")
    }
    if Set(nodes.map(\.peerID)).count != nodes.count {
      throw ConfigurationError(key: "ozone.om.nodes.\(service)", message: "two node ids hash to the same Raft peer id; rename one")
    }
  }

  private static func node(_ id: String, service: String, configuration: OzoneConfiguration) throws -> OMNodeDetails {
    let addressKey = "ozone.om.address.\(service).\(id)"
    guard configuration[addressKey] != nil else {
      throw ConfigurationError(key: addressKey, message: "is not set; it is where OM \(id) serves clients")
    }
    let client = try configuration.hostAndPort(addressKey, defaultHost: "0.0.0.0", defaultPort: OzoneConfigKeys.omAddressDefaultPort)
    let raftPort = try configuration.integer("ozone.om.ratis.port.\(service).\(id)", default: defaultRaftPort)
    let http = try configuration.hostAndPort(
      "ozone.om.http-address.\(service).\(id)", defaultHost: client.host, defaultPort: defaultHTTPPort)
    return OMNodeDetails(
      nodeID: id, peerID: peerID(of: id), clientAddress: client, raftAddress: HostAndPort(host: client.host, port: raftPort),
      httpAddress: http)
  }

  /// FNV-1a of the node id: stable across processes and restarts, never 0.
  public static func peerID(of nodeID: String) -> PeerID {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in nodeID.utf8 {
      hash ^= UInt64(byte)
      hash = hash &* 0x0000_0100_0000_01b3
    }
    return PeerID(hash == 0 ? 1 : hash)
  }

  public func node(withPeerID peer: PeerID) -> OMNodeDetails? { nodes.first { $0.peerID == peer } }
}
