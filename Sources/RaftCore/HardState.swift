/// The state a peer must persist before it sends any message that depends on it.
///
/// `term` and `vote` protect election safety (one vote per term, Raft paper §5.2) and must be
/// fsync'd; `commit` may lag on disk (it is recovered from the leader) but never exceeds the
/// last persisted entry.
public struct HardState: Hashable, Sendable, CustomStringConvertible {
  public var term: UInt64
  /// The candidate this peer voted for in `term`, if any.
  public var vote: PeerID?
  public var commit: UInt64

  public init(term: UInt64 = 0, vote: PeerID? = nil, commit: UInt64 = 0) {
    self.term = term
    self.vote = vote
    self.commit = commit
  }

  public var description: String {
    "term=\(term) vote=\(vote.map(\.description) ?? "none") commit=\(commit)"
  }
}

/// The compaction point of a log: the last entry folded into the state machine's checkpoint and
/// the membership in force at that entry.
///
/// O3 never ships snapshot bytes through Raft (notification mode); only this metadata is part of
/// the Raft state.
public struct SnapshotMetadata: Hashable, Sendable, CustomStringConvertible {
  /// The index and term of the last entry covered; `.zero` for a log never compacted.
  public var last: TermIndex
  public var membership: Membership

  public init(last: TermIndex, membership: Membership) {
    self.last = last
    self.membership = membership
  }

  public var description: String { "\(last) \(membership)" }
}
