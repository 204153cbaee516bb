/// Every membership this peer's log knows: the one at the compaction point and one per
/// membership-change entry after it, so that the membership in force can be rolled back when a
/// conflicting tail is truncated.
///
/// Invariant: `records` ascend by index and all lie after `base.index`.
struct MembershipLog {
  private(set) var base: MembershipRecord
  private(set) var records: [MembershipRecord] = []

  init(base: SnapshotMetadata) {
    self.base = MembershipRecord(index: base.last.index, membership: base.membership)
  }

  /// The membership in force: the newest one in the log, committed or not (Raft thesis §4.1).
  var current: MembershipRecord { records.last ?? base }

  /// The membership in force at `index`, which must not precede the compaction point.
  func membership(at index: UInt64) -> Membership {
    precondition(index >= base.index, "membership asked for before the compaction point")
    return (records.last { $0.index <= index } ?? base).membership
  }

  /// Records the membership-change entries among `entries`, which were just appended.
  mutating func append(_ entries: [LogEntry]) {
    for entry in entries where entry.kind == .membershipChange {
      precondition(entry.index > current.index, "membership entries out of order")
      let change: MembershipChange
      let next: Membership
      do {
        change = try MembershipChange(decoding: entry.data)
        next = try current.membership.applying(change)
      } catch {
        preconditionFailure("membership entry \(entry.termIndex) does not apply: \(error)")
      }
      records.append(MembershipRecord(index: entry.index, membership: next))
    }
  }

  /// Forgets the memberships set by entries at or after `index`, which were overwritten.
  mutating func truncate(from index: UInt64) {
    records.removeAll { $0.index >= index }
  }

  /// Starts over from a new compaction point (after a checkpoint install).
  mutating func reset(to snapshot: SnapshotMetadata) {
    base = MembershipRecord(index: snapshot.last.index, membership: snapshot.membership)
    records = []
  }

  /// Folds records at or before a newer compaction point into the base.
  mutating func compact(to snapshot: SnapshotMetadata) {
    guard snapshot.last.index > base.index else { return }
    base = MembershipRecord(index: snapshot.last.index, membership: snapshot.membership)
    records.removeAll { $0.index <= snapshot.last.index }
  }

  /// The history a snapshot notice carries: the base, then every record after it.
  var history: [MembershipRecord] { [base] + records }
}
