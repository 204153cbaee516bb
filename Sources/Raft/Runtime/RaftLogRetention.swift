/// When the runtime snapshots the state machine and how much of the log it keeps afterwards.
///
/// Every `snapshotAutoTriggerThreshold` applied entries the runtime asks the state machine for
/// a snapshot (`ReplicatedStateMachine.takeSnapshot`): the state machine makes what it applied
/// durable and reports the position it now holds. That position, not the index the state
/// machine happens to have flushed, is the "durably applied index" the log is purged behind:
/// the OM writes RocksDB batches without fsync under Raft (the log is its write-ahead log), so
/// the snapshot is where it pays for durability, as Ozone's `takeSnapshot` does.
///
/// After a snapshot at index S the log is purged through `S - purgeGap`: the gap is a
/// retention, so a follower less than the gap behind catches up from the log and only one
/// further behind needs a checkpoint. (Ratis reads `ozone.om.ratis.log.purge.gap` as the least
/// distance between two purges and then purges through the snapshot itself; O3 keeps Ozone's
/// key and default but gives it the meaning the key's name suggests.) The leader purges
/// whatever its followers hold, as Ozone does with `ozone.om.ratis.log.purge.upto.snapshot.index`,
/// so a follower that is down cannot make the log grow without bound: between two snapshots
/// the log holds at most `purgeGap + snapshotAutoTriggerThreshold` entries plus the rest of the
/// segment the purge point falls in and the open segment (whole segments are deleted, the open
/// one never).
public struct RaftLogRetention: Sendable, Hashable {
  /// Applied entries between two automatic snapshots; at least 1.
  public var snapshotAutoTriggerThreshold: UInt64
  /// Entries kept behind the last snapshot.
  public var purgeGap: UInt64

  public init(snapshotAutoTriggerThreshold: UInt64, purgeGap: UInt64) {
    precondition(snapshotAutoTriggerThreshold > 0, "the snapshot threshold must be at least one entry")
    self.snapshotAutoTriggerThreshold = snapshotAutoTriggerThreshold
    self.purgeGap = purgeGap
  }

  /// Whether a snapshot is due once `appliedIndex` is applied, the last one having been tried at
  /// `lastSnapshotIndex`.
  public func isSnapshotDue(appliedIndex: UInt64, lastSnapshotIndex: UInt64) -> Bool {
    appliedIndex >= lastSnapshotIndex && appliedIndex - lastSnapshotIndex >= snapshotAutoTriggerThreshold
  }

  /// The index the log may be purged through after a snapshot at `snapshotIndex`; nil when the
  /// gap reaches back before the log's first index (`firstLogIndex`), so nothing could go.
  public func purgeIndex(snapshotIndex: UInt64, firstLogIndex: UInt64) -> UInt64? {
    guard snapshotIndex > purgeGap else { return nil }
    let through = snapshotIndex - purgeGap
    return through >= firstLogIndex ? through : nil
  }
}
