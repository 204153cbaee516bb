import RaftCore

/// One committed log entry as the state machine sees it.
public struct CommittedEntry: Sendable {
  public var termIndex: TermIndex
  public var kind: EntryKind
  /// The proposal's bytes; empty for the leader's no-op.
  public var data: [UInt8]

  public init(termIndex: TermIndex, kind: EntryKind, data: [UInt8]) {
    self.termIndex = termIndex
    self.kind = kind
    self.data = data
  }

  /// A membership change or a leader's no-op: nothing for the application to run, but its index
  /// still counts as applied (Ozone tracks these too, or its leader never becomes ready).
  public var isApplicationEntry: Bool { kind == .normal && !data.isEmpty }
}

/// The application Raft replicates (the Ozone Manager, or a test's key-value store).
///
/// Every method except `installSnapshotFromLeader` and `query` is called on the runtime's one
/// apply thread, in log order. Decorators must forward every method: none has a default.
public protocol ReplicatedStateMachine: AnyObject, Sendable {
  /// Applies a batch of committed entries in log order and returns one response per entry
  /// (empty for entries that are not application entries). Deterministic: no clock, no I/O
  /// beyond the state machine's own storage. A thrown error is fatal to the replica.
  func apply(_ entries: ArraySlice<CommittedEntry>) throws -> [[UInt8]]

  /// The last entry whose effects are durable in the state machine's own storage; a restart
  /// resumes after it.
  var durablyAppliedIndex: TermIndex { get }

  /// Makes everything applied so far durable and returns the position the state machine now
  /// holds (at most the last applied entry). Called on the apply thread every
  /// `snapshotAutoTriggerThreshold` applied entries; the log is then purged behind the returned
  /// position minus the purge gap (see `RaftLogRetention`). A thrown error skips this snapshot
  /// (the log keeps its entries) and the next is tried a threshold later. A state machine that
  /// keeps nothing durable returns `.zero`, and its log is never purged.
  func takeSnapshot() throws -> TermIndex

  /// A position the state machine made durable while applying the last batch and wants the log
  /// purged through at once, keeping no gap (Ozone's Prepare: afterwards the log holds nothing
  /// the state machine's storage lacks); nil for none. Asked on the apply thread after every
  /// applied batch, before its responses are delivered; each request is returned once.
  func takePurgeRequest() -> TermIndex?

  /// Fetches a checkpoint from `leader` and installs it, at or after `firstLogIndex - 1` (the
  /// leader's compaction point); returns where it stands and the membership in force there
  /// (a state machine learns it by folding the membership entries it applies; see
  /// `MembershipTracker`). Runs off the apply thread; the runtime applies nothing meanwhile.
  func installSnapshotFromLeader(leader: PeerID, firstLogIndex: TermIndex) async throws -> InstalledCheckpoint

  /// The leader changed (nil: none known) in `term`.
  func leaderChanged(to leader: PeerID?, term: UInt64)

  /// Answers a read-only request; called once everything up to the read's index is applied.
  func query(_ request: [UInt8]) throws -> [UInt8]
}

/// A checkpoint a state machine installed: its position in the log and the membership there.
public struct InstalledCheckpoint: Sendable, Hashable {
  public var position: TermIndex
  public var membership: Membership

  public init(position: TermIndex, membership: Membership) {
    self.position = position
    self.membership = membership
  }
}

/// The membership as of the last applied entry, for state machines whose checkpoints must
/// record it: feed it every committed entry (membership changes are folded, others ignored).
public struct MembershipTracker: Sendable, Hashable {
  public private(set) var membership: Membership

  public init(_ membership: Membership = .empty) {
    self.membership = membership
  }

  /// Folds a committed membership change; throws when the entry does not decode or does not
  /// apply (a corrupt log: the caller should stop).
  public mutating func observe(_ entry: CommittedEntry) throws {
    guard entry.kind == .membershipChange else { return }
    membership = try membership.applying(try MembershipChange(decoding: entry.data))
  }
}
