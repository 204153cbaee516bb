import Foundation

/// One OM's own view of its Raft group: the reply to `om.admin.roles`, the data of the HTTP
/// status page and of the Raft gauges on `/prom`.
///
/// Encoded as JSON (see `OMAdminProtocol`); optional fields are omitted when unknown.
public struct OMNodeStatus: Codable, Sendable, Equatable {
  /// Ozone's names for Raft roles (Ratis' `RaftPeerRole`): a pre-candidate shows as CANDIDATE,
  /// a non-voting member (a learner) as LISTENER.
  public enum Role: String, Codable, Sendable {
    case leader = "LEADER"
    case follower = "FOLLOWER"
    case candidate = "CANDIDATE"
    case listener = "LISTENER"
  }

  public var nodeId: String
  public var serviceId: String?
  public var role: Role
  public var term: UInt64
  /// The node this OM believes leads in `term`.
  public var leaderId: String?
  /// True when this OM leads and has applied an entry of its term (it accepts requests).
  public var leaderReady: Bool
  public var commitIndex: UInt64
  public var appliedIndex: UInt64
  public var lastIndex: UInt64
  /// The last index written to RocksDB by the double buffer.
  public var flushedIndex: UInt64
  public var clientAddress: String
  public var raftAddress: String
  public var httpAddress: String
  /// The node leadership is being handed to, while a transfer runs on this leader.
  public var transferTargetId: String?
  /// The leader checkpoint this OM is downloading or installing, while it does.
  public var checkpointInstall: OMCheckpointInstallProgress?
  /// Replication progress per member; empty unless this OM leads.
  public var peers: [OMPeerStatus]

  public init(
    nodeId: String, serviceId: String?, role: Role, term: UInt64, leaderId: String?, leaderReady: Bool,
    commitIndex: UInt64, appliedIndex: UInt64, lastIndex: UInt64, flushedIndex: UInt64, clientAddress: String,
    raftAddress: String, httpAddress: String, transferTargetId: String?,
    checkpointInstall: OMCheckpointInstallProgress? = nil, peers: [OMPeerStatus]
  ) {
    self.nodeId = nodeId
    self.serviceId = serviceId
    self.role = role
    self.term = term
    self.leaderId = leaderId
    self.leaderReady = leaderReady
    self.commitIndex = commitIndex
    self.appliedIndex = appliedIndex
    self.lastIndex = lastIndex
    self.flushedIndex = flushedIndex
    self.clientAddress = clientAddress
    self.raftAddress = raftAddress
    self.httpAddress = httpAddress
    self.transferTargetId = transferTargetId
    self.checkpointInstall = checkpointInstall
    self.peers = peers
  }

  /// The leader's progress entry for `nodeId`, when this status comes from the leader.
  public func peer(_ nodeId: String) -> OMPeerStatus? { peers.first { $0.nodeId == nodeId } }
}

/// How far the leader has replicated its log to one member.
public struct OMPeerStatus: Codable, Sendable, Equatable {
  public var nodeId: String
  /// The highest log index known to be on that member.
  public var matchIndex: UInt64
  /// Entries the leader holds that the member does not: `lastIndex - matchIndex`.
  public var lag: UInt64
  /// The leader's flow-control state for the member: probe, replicate or snapshot.
  public var state: String
  /// Whether the member answered within the last election timeout.
  public var recentlyActive: Bool
  /// A non-voting member (Ozone's listener).
  public var learner: Bool
  /// Where the member serves clients, from the leader's address book; nil when it has none.
  public var clientAddress: String?

  public init(
    nodeId: String, matchIndex: UInt64, lag: UInt64, state: String, recentlyActive: Bool, learner: Bool,
    clientAddress: String? = nil
  ) {
    self.clientAddress = clientAddress
    self.nodeId = nodeId
    self.matchIndex = matchIndex
    self.lag = lag
    self.state = state
    self.recentlyActive = recentlyActive
    self.learner = learner
  }
}
