import O3Common
import RaftCore

/// One OM of the service as the configuration describes it.
public struct OMNodeDetails: ServiceNode, Hashable {
  public var nodeID: String
  /// The Raft peer id: a stable hash of the node id, so every OM derives the same one.
  public var peerID: PeerID
  public var clientAddress: HostAndPort
  public var raftAddress: HostAndPort
  public var httpAddress: HostAndPort

  public init(nodeID: String, clientAddress: HostAndPort, raftAddress: HostAndPort, httpAddress: HostAndPort) {
    self.nodeID = nodeID
    self.peerID = OMServiceConfiguration.peerID(of: nodeID)
    self.clientAddress = clientAddress
    self.raftAddress = raftAddress
    self.httpAddress = httpAddress
  }
}

/// The OM service (Ozone's HA keys) and which of its nodes this process is.
///
/// With `ozone.om.service.ids` unset there is one OM, node `om1`, at `ozone.om.address`: a
/// one-replica Raft group, as Ozone 2.x runs a single OM.
///
/// The node list is an address book that grows while the OM runs: `reload(from:)` adds the
/// nodes a re-read configuration lists (an OM added with `o3 om --bootstrap`), and `learn(_:)`
/// one node. Every copy of a configuration shares that book, so the parts of a server that were
/// handed a copy at start (NOT_LEADER hints, roles, checkpoint downloads) all see the new node.
/// Raft's membership, not this list, says who is a member: a decommissioned node stays listed.
public struct OMServiceConfiguration: Sendable {
  public var serviceID: String?
  public var localNodeID: String
  private let book: ServiceAddressBook<OMNodeDetails>

  /// Every node known: the configured ones in configuration order, then those learned later.
  public var nodes: [OMNodeDetails] { book.nodes }

  public var local: OMNodeDetails { nodes.first { $0.nodeID == localNodeID }! }

  public static let defaultRaftPort = 9872
  public static let defaultHTTPPort = 9874

  /// Reads the service from Ozone's keys; `requireLocalNode` is false for clients.
  public init(configuration: OzoneConfiguration, requireLocalNode: Bool = true) throws {
    let identity = try ServiceIdentity(configuration: configuration, keys: .om, requireLocalNode: requireLocalNode)
    serviceID = identity.serviceID
    localNodeID = identity.localNodeID
    guard let service = identity.serviceID else {
      let client = try configuration.hostAndPort(
        OzoneConfigKeys.omAddress, defaultHost: "0.0.0.0", defaultPort: OzoneConfigKeys.omAddressDefaultPort)
      let raftPort = try configuration.integer("ozone.om.ratis.port", default: Self.defaultRaftPort)
      let http = try configuration.hostAndPort(
        "ozone.om.http-address", defaultHost: client.host, defaultPort: Self.defaultHTTPPort)
      book = ServiceAddressBook([
        OMNodeDetails(
          nodeID: identity.localNodeID, clientAddress: client, raftAddress: HostAndPort(host: client.host, port: raftPort),
          httpAddress: http)
      ])
      return
    }
    let nodes = try identity.nodeIDs.map { try Self.node($0, service: service, configuration: configuration) }
    if Set(nodes.map(\.peerID)).count != nodes.count {
      throw ConfigurationError(key: ServiceKeys.om.nodes(of: service), message: "two node ids hash to the same Raft peer id; rename one")
    }
    book = ServiceAddressBook(nodes)
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
      nodeID: id, clientAddress: client, raftAddress: HostAndPort(host: client.host, port: raftPort), httpAddress: http)
  }

  /// FNV-1a of the node id: stable across processes and restarts, never 0.
  public static func peerID(of nodeID: String) -> PeerID {
    PeerID(ServiceIdentity.peerNumber(of: nodeID))
  }

  public func node(withPeerID peer: PeerID) -> OMNodeDetails? { nodes.first { $0.peerID == peer } }

  public func node(withID nodeID: String) -> OMNodeDetails? { nodes.first { $0.nodeID == nodeID } }

  /// Adds the nodes `configuration` lists for this service (the configuration file as it is now:
  /// Ozone re-reads ozone-site.xml when asked, so operators list a new OM in the files of the
  /// running ones without restarting them) and updates the addresses of known ones. Nodes it no
  /// longer lists stay known; this node's own entry never changes (its servers are bound).
  ///
  /// - Returns: the service exactly as `configuration` describes it.
  /// - Throws: `ConfigurationError` when it is malformed or describes another service.
  @discardableResult
  public func reload(from configuration: OzoneConfiguration) throws -> OMServiceConfiguration {
    var configuration = configuration
    if let serviceID { configuration["ozone.om.internal.service.id"] = serviceID }
    let reread = try OMServiceConfiguration(configuration: configuration, requireLocalNode: false)
    guard reread.serviceID == serviceID else {
      throw ConfigurationError(
        key: "ozone.om.service.ids", message: "the configuration now names service \(reread.serviceID ?? "(none)"), not \(serviceID ?? "(none)")")
    }
    for node in reread.nodes { learn(node) }
    return reread
  }

  /// Adds `node`, or updates its addresses; the local node is left as it is.
  public func learn(_ node: OMNodeDetails) {
    guard node.nodeID != localNodeID else { return }
    book.record(node)
  }
}
