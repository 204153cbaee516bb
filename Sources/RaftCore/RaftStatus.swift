/// A read-only picture of a peer, for operators (`o3 admin om roles`) and tests.
public struct RaftStatus: Hashable, Sendable {
  public var id: PeerID
  public var role: RaftRole
  public var leader: PeerID?
  public var hardState: HardState
  public var appliedIndex: UInt64
  /// The first index held in the log (entries before it are compacted).
  public var firstIndex: UInt64
  public var lastIndex: UInt64
  /// The membership in force: the last membership entry in the log (see the module notes).
  public var membership: Membership
  /// The index of the entry that set `membership` (0 when it comes from the initial state).
  public var membershipIndex: UInt64
  /// The peer this leader is handing leadership to, if any.
  public var transferTarget: PeerID?
  /// Replication progress per member, in ascending peer order; empty unless leader.
  public var progress: [PeerProgress]
}

/// How far a leader has replicated its log to one member.
public struct PeerProgress: Hashable, Sendable {
  public var peer: PeerID
  /// The highest index known to be replicated on the peer.
  public var match: UInt64
  /// The next index to send.
  public var next: UInt64
  public var state: ReplicationState
  /// AppendEntries messages sent and not yet acknowledged.
  public var inflightMessages: Int
  /// Whether the peer was heard from in the current check-quorum period.
  public var recentlyActive: Bool
  public var isLearner: Bool
}

/// The flow-control state of one follower at the leader.
public enum ReplicationState: String, Hashable, Sendable {
  /// Searching for the last matching index: one message in flight at a time.
  case probe
  /// The logs match up to `match`: entries are streamed within the inflight window.
  case replicate
  /// The follower was told to install a checkpoint; nothing is sent until it answers.
  case snapshot
}
