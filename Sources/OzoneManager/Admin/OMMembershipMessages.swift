import O3Common

/// One OM's addresses as an admin message carries them (`host:port` strings).
public struct OMNodeAddresses: Codable, Sendable, Equatable {
  public var nodeId: String
  public var clientAddress: String
  public var raftAddress: String
  public var httpAddress: String

  public init(nodeId: String, clientAddress: String, raftAddress: String, httpAddress: String) {
    self.nodeId = nodeId
    self.clientAddress = clientAddress
    self.raftAddress = raftAddress
    self.httpAddress = httpAddress
  }

  public init(_ node: OMNodeDetails) {
    self.init(
      nodeId: node.nodeID, clientAddress: "\(node.clientAddress)", raftAddress: "\(node.raftAddress)",
      httpAddress: "\(node.httpAddress)")
  }

  /// The longest node id and host name accepted (a host name's limit in DNS).
  static let nameBytesMax = 255

  /// Whether `text` is 1 to `nameBytesMax` ASCII letters, digits and `punctuation` (a host name
  /// or an IPv4/IPv6 address with "-._:%", a node id with "-_.").
  static func isName(_ text: String, punctuation: String) -> Bool {
    !text.isEmpty && text.utf8.count <= nameBytesMax
      && text.utf8.allSatisfy { byte in
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
          || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || punctuation.utf8.contains(byte)
      }
  }

  /// The node these addresses describe; throws `malformedMessage` for a node id that could not
  /// name a node in a configuration key, or an address without a host and a port in 1...65535
  /// (a node that can never be dialled must not become a member).
  public func details() throws(OMAdminError) -> OMNodeDetails {
    func parse(_ text: String, _ name: String) throws(OMAdminError) -> HostAndPort {
      let parsed: HostAndPort
      do {
        parsed = try HostAndPort.parse(text, defaultPort: 0)
      } catch {
        throw OMAdminError(.malformedMessage, "\(nodeId)'s \(name) address '\(text)' is not host:port")
      }
      guard Self.isName(parsed.host, punctuation: "-._:%"), (1...65_535).contains(parsed.port) else {
        throw OMAdminError(
          .malformedMessage, "\(nodeId)'s \(name) address '\(text)' needs a host name or address and a port in 1...65535")
      }
      return parsed
    }
    guard Self.isName(nodeId, punctuation: "-_.") else {
      throw OMAdminError(
        .malformedMessage, "the node id '\(nodeId)' must be 1 to \(Self.nameBytesMax) letters, digits, '-', '_' or '.'")
    }
    return OMNodeDetails(
      nodeID: nodeId, clientAddress: try parse(clientAddress, "client"), raftAddress: try parse(raftAddress, "Raft"),
      httpAddress: try parse(httpAddress, "HTTP"))
  }

  /// Whether both name the same client and Raft endpoints (0.0.0.0 counts as this machine, as a
  /// peer dials it); the HTTP address may differ, since only the leader's is ever dialled.
  public func sameEndpoints(as other: OMNodeAddresses) -> Bool {
    guard let mine = try? details(), let theirs = try? other.details() else { return false }
    return OMAdminClient.dialable(mine.clientAddress) == OMAdminClient.dialable(theirs.clientAddress)
      && OMAdminClient.dialable(mine.raftAddress) == OMAdminClient.dialable(theirs.raftAddress)
  }
}

/// The reply to `om.admin.configuration`: the service as the OM's configuration file describes
/// it now (re-read for the call, as Ozone's getOMConfiguration reloads ozone-site.xml).
public struct OMConfigurationReply: Codable, Sendable, Equatable {
  public var serviceId: String?
  /// The OM that answered.
  public var nodeId: String
  /// The nodes the re-read file lists, in its order.
  public var nodes: [OMNodeAddresses]

  public init(serviceId: String?, nodeId: String, nodes: [OMNodeAddresses]) {
    self.serviceId = serviceId
    self.nodeId = nodeId
    self.nodes = nodes
  }

  public func node(_ nodeId: String) -> OMNodeAddresses? { nodes.first { $0.nodeId == nodeId } }
}

/// Asks the leader to add (or keep adding) a new OM: Ozone's `OMInterServiceProtocol.bootstrap`.
/// Sent again and again by the new OM until the reply says `voter`; every call is one idempotent
/// step (add as learner, check the catch-up, promote).
public struct OMBootstrapRequest: Codable, Sendable, Equatable {
  public var node: OMNodeAddresses

  public init(node: OMNodeAddresses) {
    self.node = node
  }
}

/// Where a bootstrapping OM stands after one step.
public struct OMBootstrapProgress: Codable, Sendable, Equatable {
  public enum Phase: String, Codable, Sendable {
    /// A learner still behind the leader (receiving the log, or installing a checkpoint).
    case catchingUp = "CATCHING_UP"
    /// A voting member: the bootstrap is done.
    case voter = "VOTER"
  }

  public var nodeId: String
  public var phase: Phase
  public var leaderId: String
  public var term: UInt64
  /// The highest index the leader knows the new OM holds.
  public var matchIndex: UInt64
  public var commitIndex: UInt64
  /// The leader's flow-control state for it: probe, replicate or snapshot (installing a checkpoint).
  public var replicationState: String

  public init(
    nodeId: String, phase: Phase, leaderId: String, term: UInt64, matchIndex: UInt64, commitIndex: UInt64,
    replicationState: String
  ) {
    self.nodeId = nodeId
    self.phase = phase
    self.leaderId = leaderId
    self.term = term
    self.matchIndex = matchIndex
    self.commitIndex = commitIndex
    self.replicationState = replicationState
  }
}

/// Asks the leader to remove an OM from the Raft group (`o3 admin om decommission`).
public struct OMDecommissionRequest: Codable, Sendable, Equatable {
  public var nodeId: String
  /// Remove even when fewer live voters than a majority of the new group would remain (writes
  /// then stop until enough of them return).
  public var force: Bool

  public init(nodeId: String, force: Bool = false) {
    self.nodeId = nodeId
    self.force = force
  }
}

/// The group after a committed removal.
public struct OMDecommissionResult: Codable, Sendable, Equatable {
  public var nodeId: String
  public var leaderId: String
  public var term: UInt64
  public var voters: [String]
  public var learners: [String]

  public init(nodeId: String, leaderId: String, term: UInt64, voters: [String], learners: [String]) {
    self.nodeId = nodeId
    self.leaderId = leaderId
    self.term = term
    self.voters = voters
    self.learners = learners
  }
}
