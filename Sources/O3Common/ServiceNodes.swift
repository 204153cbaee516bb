import Synchronization

/// How one kind of replicated server names its service and its nodes in ozone-site.xml: Ozone's
/// HA keys, which have the same shape for the OM (`ozone.om.*`) and SCM (`ozone.scm.*`).
public struct ServiceKeys: Sendable, Hashable {
  /// `ozone.om`, `ozone.scm`.
  public var prefix: String
  /// `OM`, `SCM`: how messages name one node.
  public var kind: String
  /// The node id of a service configured without HA keys (one node).
  public var singleNodeID: String

  public init(prefix: String, kind: String, singleNodeID: String) {
    self.prefix = prefix
    self.kind = kind
    self.singleNodeID = singleNodeID
  }

  public static let om = ServiceKeys(prefix: "ozone.om", kind: "OM", singleNodeID: "om1")
  public static let scm = ServiceKeys(prefix: "ozone.scm", kind: "SCM", singleNodeID: "scm1")

  /// `<prefix>.service.ids`: the services this configuration names (the first is used).
  public var serviceIDs: String { "\(prefix).service.ids" }
  /// `<prefix>.internal.service.id`: which of them this process belongs to.
  public var internalServiceID: String { "\(prefix).internal.service.id" }
  /// `<prefix>.nodes.<service>`: the node ids of a service.
  public func nodes(of service: String) -> String { "\(prefix).nodes.\(service)" }
  /// `<prefix>.node.id`: which node this process is.
  public var nodeID: String { "\(prefix).node.id" }

  /// A per-node key: `<prefix>.<name>.<service>.<node>` (Ozone's address and port keys).
  public func perNode(_ name: String, service: String, node: String) -> String {
    "\(prefix).\(name).\(service).\(node)"
  }
}

/// Which service a process belongs to, its nodes' ids, and which node the process is — read from
/// Ozone's HA keys. Without `<prefix>.service.ids` there is one node, `singleNodeID`, and no
/// service id: Ozone runs an unreplicated OM or SCM that way (still a one-replica Raft group).
public struct ServiceIdentity: Sendable, Hashable {
  public var keys: ServiceKeys
  public var serviceID: String?
  public var nodeIDs: [String]
  public var localNodeID: String

  /// - Parameter requireLocalNode: false for clients, which talk to the service without being
  ///   one of its nodes (the first node stands in for "local").
  public init(configuration: OzoneConfiguration, keys: ServiceKeys, requireLocalNode: Bool = true) throws {
    self.keys = keys
    guard let serviceIDs = configuration[keys.serviceIDs], !serviceIDs.isEmpty else {
      serviceID = nil
      nodeIDs = [keys.singleNodeID]
      localNodeID = keys.singleNodeID
      return
    }
    let firstService = String(serviceIDs.split(separator: ",")[0]).trimmingCharacters(in: .whitespaces)
    let service = configuration.string(keys.internalServiceID, default: firstService)
    serviceID = service
    nodeIDs = (configuration[keys.nodes(of: service)] ?? "").split(separator: ",").map {
      $0.trimmingCharacters(in: .whitespaces)
    }
    guard !nodeIDs.isEmpty else {
      throw ConfigurationError(
        key: keys.nodes(of: service), message: "is not set; it lists the \(keys.kind) node ids of service \(service)")
    }
    let listed = nodeIDs.joined(separator: ",")
    if let local = configuration[keys.nodeID], !local.isEmpty {
      guard nodeIDs.contains(local) else {
        throw ConfigurationError(key: keys.nodeID, message: "'\(local)' is not one of \(keys.nodes(of: service)) (\(listed))")
      }
      localNodeID = local
    } else if !requireLocalNode || nodeIDs.count == 1 {
      localNodeID = nodeIDs[0]
    } else {
      throw ConfigurationError(key: keys.nodeID, message: "is not set; it names which of \(listed) this \(keys.kind) is")
    }
  }
}

extension ServiceIdentity {
  /// The number a node's Raft peer id is made from: FNV-1a (64 bits) of its node id, never 0, so
  /// that every server of the service derives the same id from the configuration alone.
  public static func peerNumber(of nodeID: String) -> UInt64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in nodeID.utf8 {
      hash ^= UInt64(byte)
      hash = hash &* 0x0000_0100_0000_01b3
    }
    return hash == 0 ? 1 : hash
  }
}

/// A node of a service, as its address book keeps it.
public protocol ServiceNode: Sendable {
  var nodeID: String { get }
}

/// The node list behind every copy of one service configuration: it grows while a server runs
/// (a node added with `--bootstrap` is learned from a re-read configuration or a peer), and every
/// part of the server that was handed a copy at start sees the new node.
public final class ServiceAddressBook<Node: ServiceNode>: Sendable {
  private let entries: Mutex<[Node]>

  public init(_ nodes: [Node]) { entries = Mutex(nodes) }

  /// The configured nodes in configuration order, then those learned later.
  public var nodes: [Node] { entries.withLock { $0 } }

  /// Adds `node`, or replaces the entry with its node id.
  public func record(_ node: Node) {
    entries.withLock { nodes in
      if let index = nodes.firstIndex(where: { $0.nodeID == node.nodeID }) {
        nodes[index] = node
      } else {
        nodes.append(node)
      }
    }
  }
}
