/// The first log of a new group: one committed membership entry per initial member, in term 1.
///
/// Every founding peer writes the same entries, so their logs agree from the start, and the log
/// itself records how the membership came to be: a peer that joins later replays it from index 1
/// and arrives at the right membership without being told (as etcd-raft bootstraps).
public struct BootstrapLog: Hashable, Sendable {
  public var hardState: HardState
  public var entries: [LogEntry]

  /// The log for a founding member of a group of `membership`; empty for an empty membership
  /// (a peer that will join an existing group).
  public init(membership: Membership) {
    let changes =
      membership.voters.map { MembershipChange(.addVoter, peer: $0) }
      + membership.learners.map { MembershipChange(.addLearner, peer: $0) }
    entries = changes.enumerated().map { offset, change in
      LogEntry(term: 1, index: UInt64(offset + 1), kind: .membershipChange, data: change.encoded())
    }
    hardState = HardState(term: entries.isEmpty ? 0 : 1, vote: nil, commit: UInt64(entries.count))
  }
}
