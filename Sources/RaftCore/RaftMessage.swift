/// A message between two peers of one Raft group.
///
/// The transport delivers it to `to` (or drops, delays, duplicates or reorders it; the core
/// copes with all of those). `term` is the sender's term, except in a pre-vote request, where
/// it is the term the sender would campaign in.
public struct RaftMessage: Hashable, Sendable, CustomStringConvertible {
  public var from: PeerID
  public var to: PeerID
  public var term: UInt64
  public var body: Body

  public init(from: PeerID, to: PeerID, term: UInt64, body: Body) {
    self.from = from
    self.to = to
    self.term = term
    self.body = body
  }

  /// What a message asks or answers.
  public enum Body: Hashable, Sendable {
    /// Would you vote for me in `term` (Raft thesis §9.6)? Changes no state at the receiver.
    case preVote(lastLog: TermIndex)
    case preVoteResponse(granted: Bool)
    /// RequestVote (Raft paper §5.2). `leadershipTransfer` marks a campaign the old leader asked
    /// for, which may override a follower's belief that the leader is alive.
    case vote(lastLog: TermIndex, leadershipTransfer: Bool)
    case voteResponse(granted: Bool)
    /// AppendEntries (Raft paper §5.3).
    case append(AppendRequest)
    case appendResponse(AppendResponse)
    /// The leader is alive; `commit` is at most what this follower is known to hold. `readRound`
    /// is the newest read-confirmation round started when this heartbeat was made.
    case heartbeat(commit: UInt64, readRound: UInt64)
    case heartbeatResponse(readRound: UInt64)
    /// The leader no longer holds the entries this follower needs: install a checkpoint.
    case snapshotNotice(SnapshotNoticeRequest)
    /// The follower's answer to a notice.
    case snapshotStatus(SnapshotInstallStatus)
    /// Start an election now, skipping pre-vote: the leader is handing leadership to you.
    case timeoutNow
    /// A follower forwards a ReadIndex request to the leader.
    case readIndex(context: [UInt8])
    /// The leader's answer: serve the read once applied ≥ `index`.
    case readIndexResponse(context: [UInt8], index: UInt64)
    /// A follower forwards a leadership-transfer request to the leader.
    case transferLeader(target: PeerID)
  }

  public var description: String { "\(from)->\(to) t\(term) \(body)" }
}

/// The AppendEntries request: `entries` follow the entry at `previous`.
public struct AppendRequest: Hashable, Sendable, CustomStringConvertible {
  public var previous: TermIndex
  public var entries: [LogEntry]
  public var commit: UInt64

  public init(previous: TermIndex, entries: [LogEntry], commit: UInt64) {
    self.previous = previous
    self.entries = entries
    self.commit = commit
  }

  public var description: String {
    let list = entries.map { "\($0.term)/\($0.index)" }.joined(separator: ",")
    return "append prev=\(previous) commit=\(commit) entries=[\(list)]"
  }
}

/// The AppendEntries answer.
///
/// On success `index` is the last index the follower now holds in agreement with the leader.
/// On rejection `index` is the `previous.index` that did not match and `hint` is the follower's
/// guess of the last position the logs may share: the last entry at or before the mismatch
/// whose term is at most the leader's term for it. The leader jumps back past a whole term at
/// once instead of one entry per round trip (the optimisation of Raft paper §5.3, last part).
public struct AppendResponse: Hashable, Sendable, CustomStringConvertible {
  public var index: UInt64
  public var rejected: Bool
  public var hint: TermIndex

  public init(index: UInt64, rejected: Bool = false, hint: TermIndex = .zero) {
    self.index = index
    self.rejected = rejected
    self.hint = hint
  }

  public var description: String {
    rejected ? "reject index=\(index) hint=\(hint)" : "ok index=\(index)"
  }
}

/// A notice that the leader has purged the entries a follower needs.
///
/// `leaderSnapshot` is the leader's compaction point: the follower's state machine must install
/// a checkpoint at or after it. `membershipHistory` is the membership at `leaderSnapshot`
/// followed by every membership entry in the leader's log after it, carried for diagnostics
/// (the wire format has it). The follower does not trust it: the checkpoint it installs may be
/// newer than that log, whose tail may since have been overwritten; the checkpoint's own
/// membership counts.
public struct SnapshotNoticeRequest: Hashable, Sendable {
  public var leaderSnapshot: TermIndex
  public var membershipHistory: [MembershipRecord]

  public init(leaderSnapshot: TermIndex, membershipHistory: [MembershipRecord]) {
    precondition(!membershipHistory.isEmpty, "the history starts with the compaction point")
    self.leaderSnapshot = leaderSnapshot
    self.membershipHistory = membershipHistory
  }
}

/// Where a follower's checkpoint installation stands.
public enum SnapshotInstallStatus: Hashable, Sendable {
  /// Installed: the follower's log now starts after this position.
  case installed(TermIndex)
  /// Still fetching or installing; the leader keeps waiting.
  case inProgress
  /// Failed; the leader probes again and sends a new notice if still needed.
  case failed
}
