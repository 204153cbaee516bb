/// Everything the core asks the application to do, collected since the last ``Ready``.
///
/// The application handles a Ready in this order, then calls `RaftNode.advance()`:
/// 1. Persist `snapshot` (the log now starts after it), then `entries` (writing entry *i*
///    discards every persisted entry at or after *i*), then `hardState`; fsync when `mustSync`.
/// 2. Only then send `messages`: a vote or an acknowledgement must never leave before the state
///    it promises is durable. (A leader's messages may go first, when
///    `messagesMayPrecedePersistence` says so.)
/// 3. Apply `committedEntries` in order (all are already durable), serve `readStates` once the
///    applied index reaches theirs, and start installing a checkpoint for `snapshotNotice`.
/// 4. Call `advance()`: it takes no argument, as the core remembers the one Ready outstanding
///    (a second `ready()` before it is a programming error).
///
/// The runtime's `ReadyHandler` (module Raft) is the one implementation of this order; the
/// simulator drives it too.
public struct Ready: Sendable {
  /// The leader and this peer's role, when either changed since the last Ready.
  public var softState: SoftState?
  /// The hard state to persist, when it changed.
  public var hardState: HardState?
  /// The new compaction point after this peer installed a checkpoint: discard the whole log and
  /// start it after this point.
  public var snapshot: SnapshotMetadata?
  /// Entries to persist, contiguous and ascending.
  public var entries: [LogEntry] = []
  /// Messages to send once the writes above are durable.
  public var messages: [RaftMessage] = []
  /// Committed, durable entries to apply, contiguous and ascending.
  public var committedEntries: [LogEntry] = []
  /// Confirmed reads: serve each once the state machine has applied through its index.
  public var readStates: [ReadState] = []
  /// The leader has purged entries this peer needs; fetch and install a checkpoint, then call
  /// `RaftNode.snapshotInstalled(_:membership:)`.
  public var snapshotNotice: SnapshotNotice?
  /// Whether the writes must be fsync'd before the messages go out (term, vote or entries
  /// changed). A commit-only change may be written lazily.
  public var mustSync: Bool = false
  /// Whether `messages` may leave before the writes are durable, in parallel with them
  /// (Raft thesis §10.2.1): true for a leader whose term and vote are already durable, as its
  /// messages (appends, heartbeats, read answers) promise nothing about its own log. The leader
  /// counts its own entries towards a commit only at `advance()`, once they are durable.
  public var messagesMayPrecedePersistence: Bool = false

  public init() {}

  /// Whether there is nothing to do.
  public var isEmpty: Bool {
    softState == nil && hardState == nil && snapshot == nil && entries.isEmpty
      && messages.isEmpty && committedEntries.isEmpty && readStates.isEmpty
      && snapshotNotice == nil
  }
}

/// The volatile part of a peer's state the application may want to react to.
public struct SoftState: Hashable, Sendable {
  public var leader: PeerID?
  public var role: RaftRole

  public init(leader: PeerID?, role: RaftRole) {
    self.leader = leader
    self.role = role
  }
}

/// A peer's role in its current term.
public enum RaftRole: String, Hashable, Sendable {
  case follower
  case preCandidate
  case candidate
  case leader
}

/// A read the leader has confirmed: it may be served once the local state machine has applied
/// through `index`.
public struct ReadState: Hashable, Sendable {
  public var index: UInt64
  /// The application's identifier for the read, as given to `RaftNode.readIndex(context:)`.
  public var context: [UInt8]

  public init(index: UInt64, context: [UInt8]) {
    self.index = index
    self.context = context
  }
}

/// The leader's request that this peer install a checkpoint (Ratis' notification mode: the
/// state machine fetches it out of band, from the leader's checkpoint endpoint).
public struct SnapshotNotice: Hashable, Sendable {
  public var leader: PeerID
  /// The leader's compaction point; the installed checkpoint must be at or after it.
  public var leaderSnapshot: TermIndex
  /// The first index the leader still holds, `leaderSnapshot.index + 1`.
  public var leaderFirstIndex: UInt64 { leaderSnapshot.index + 1 }

  public init(leader: PeerID, leaderSnapshot: TermIndex) {
    self.leader = leader
    self.leaderSnapshot = leaderSnapshot
  }
}
