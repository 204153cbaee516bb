import O3Common
import RaftCore

/// One SCM of the service as the configuration describes it, with Ozone's ports.
public struct SCMNodeDetails: ServiceNode, Hashable {
  public var nodeID: String
  /// The Raft peer id: a stable hash of the node id, so every SCM derives the same one.
  public var peerID: PeerID
  /// The admin protocol (Ozone's StorageContainerLocationProtocol, 9860).
  public var clientAddress: HostAndPort
  /// The block protocol the OM calls (Ozone's ScmBlockLocationProtocol, 9863).
  public var blockAddress: HostAndPort
  /// Where datanodes register and heartbeat (9861).
  public var datanodeAddress: HostAndPort
  public var raftAddress: HostAndPort
  public var httpAddress: HostAndPort
}

/// The SCM service (Ozone's HA keys, `ozone.scm.*`) and which of its nodes this process is.
///
/// Without `ozone.scm.service.ids` there is one SCM, node `scm1`: its host comes from
/// `ozone.scm.client.address` (which may carry the port), else the first of `ozone.scm.names`;
/// its ports from `ozone.scm.client.port` (9860), `ozone.scm.block.client.port` (9863),
/// `ozone.scm.datanode.port` (9861), `ozone.scm.ratis.port` (9894) and `ozone.scm.http-address`
/// (9876). In a service, node `n`'s host is `ozone.scm.address.<svc>.<n>` and each port key may
/// carry the suffix `.<svc>.<n>`, as in Ozone. A single SCM is still a one-replica Raft group.
public struct SCMServiceConfiguration: Sendable {
  public var serviceID: String?
  public var localNodeID: String
  private let book: ServiceAddressBook<SCMNodeDetails>

  public var nodes: [SCMNodeDetails] { book.nodes }
  public var local: SCMNodeDetails { nodes.first { $0.nodeID == localNodeID }! }

  public static let defaultClientPort = 9860
  public static let defaultDatanodePort = 9861
  public static let defaultBlockPort = 9863
  public static let defaultRaftPort = 9894
  public static let defaultHTTPPort = 9876

  /// Reads the service from Ozone's keys; `requireLocalNode` is false for clients.
  public init(configuration: OzoneConfiguration, requireLocalNode: Bool = true) throws {
    let identity = try ServiceIdentity(configuration: configuration, keys: .scm, requireLocalNode: requireLocalNode)
    serviceID = identity.serviceID
    localNodeID = identity.localNodeID
    guard let service = identity.serviceID else {
      let names = configuration.string("ozone.scm.names", default: "").split(separator: ",").map {
        $0.trimmingCharacters(in: .whitespaces)
      }
      let fallbackHost = names.first.map { String($0.split(separator: ":")[0]) } ?? "0.0.0.0"
      book = ServiceAddressBook([
        try Self.node(identity.localNodeID, host: fallbackHost, suffix: "", configuration: configuration)
      ])
      return
    }
    let nodes = try identity.nodeIDs.map { id in
      let hostKey = "ozone.scm.address.\(service).\(id)"
      guard let host = configuration[hostKey], !host.isEmpty else {
        throw ConfigurationError(key: hostKey, message: "is not set; every SCM of service \(service) needs its host")
      }
      return try Self.node(id, host: host, suffix: ".\(service).\(id)", configuration: configuration)
    }
    if Set(nodes.map(\.peerID)).count != nodes.count {
      throw ConfigurationError(key: ServiceKeys.scm.nodes(of: service), message: "two node ids hash to the same Raft peer id; rename one")
    }
    book = ServiceAddressBook(nodes)
  }

  /// One node's addresses. A single SCM reads the address keys (`ozone.scm.client.address` and
  /// friends, each of which may carry its port); a node of a service is at its
  /// `ozone.scm.address.<svc>.<n>` host on ports from `<port key>.<svc>.<n>`, else `<port key>`,
  /// else Ozone's default (and `ozone.scm.http-address.<svc>.<n>` when set).
  private static func node(_ id: String, host: String, suffix: String, configuration: OzoneConfiguration) throws -> SCMNodeDetails {
    func port(_ key: String, _ defaultPort: Int) throws -> Int {
      let general = try configuration.integer(key, default: defaultPort)
      return suffix.isEmpty ? general : try configuration.integer(key + suffix, default: general)
    }
    let httpKey = "ozone.scm.http-address" + suffix
    var node: SCMNodeDetails
    if suffix.isEmpty {
      let client = try configuration.hostAndPort(
        "ozone.scm.client.address", defaultHost: host, defaultPort: try port("ozone.scm.client.port", defaultClientPort))
      node = SCMNodeDetails(
        nodeID: id, peerID: peerID(of: id), clientAddress: client,
        blockAddress: try configuration.hostAndPort(
          "ozone.scm.block.client.address", defaultHost: client.host,
          defaultPort: try port("ozone.scm.block.client.port", defaultBlockPort)),
        datanodeAddress: try configuration.hostAndPort(
          "ozone.scm.datanode.address", defaultHost: client.host,
          defaultPort: try port("ozone.scm.datanode.port", defaultDatanodePort)),
        raftAddress: HostAndPort(host: client.host, port: try port("ozone.scm.ratis.port", defaultRaftPort)),
        httpAddress: try configuration.hostAndPort(httpKey, defaultHost: client.host, defaultPort: defaultHTTPPort))
    } else {
      node = SCMNodeDetails(
        nodeID: id, peerID: peerID(of: id),
        clientAddress: HostAndPort(host: host, port: try port("ozone.scm.client.port", defaultClientPort)),
        blockAddress: HostAndPort(host: host, port: try port("ozone.scm.block.client.port", defaultBlockPort)),
        datanodeAddress: HostAndPort(host: host, port: try port("ozone.scm.datanode.port", defaultDatanodePort)),
        raftAddress: HostAndPort(host: host, port: try port("ozone.scm.ratis.port", defaultRaftPort)),
        httpAddress: try configuration.hostAndPort(httpKey, defaultHost: host, defaultPort: defaultHTTPPort))
    }
    // A test asking for free ports (client port 0) gets a free HTTP port too, unless it set one.
    if configuration[httpKey] == nil && node.clientAddress.port == 0 { node.httpAddress.port = 0 }
    return node
  }

  /// FNV-1a of the node id: stable across processes and restarts, never 0 (as the OM's).
  public static func peerID(of nodeID: String) -> PeerID {
    PeerID(ServiceIdentity.peerNumber(of: nodeID))
  }

  public func node(withPeerID peer: PeerID) -> SCMNodeDetails? { nodes.first { $0.peerID == peer } }
}
