import RaftCore

/// How a `RaftServer` runs: the core's knobs plus the runtime's own.
public struct RaftServerConfiguration: Sendable {
  /// The core's configuration (id, election and heartbeat ticks, windows, read mode).
  public var raft: RaftConfiguration
  /// Wall-clock length of one tick. Ozone's election timeout is at least 5 s
  /// (`ozone.om.ratis.minimum.timeout`); with the core's default of 10 election ticks that is
  /// a 500 ms tick. Tests use shorter ticks.
  public var tickMilliseconds: Int = 500
  /// Entries kept behind the last snapshot when purging (`ozone.om.ratis.log.purge.gap`,
  /// Ozone's default 1,000,000); see `RaftLogRetention`.
  public var purgeGap: UInt64 = 1_000_000
  /// Applied entries between two automatic snapshots
  /// (`ozone.om.ratis.snapshot.auto.trigger.threshold`, Ozone's default 400,000); see
  /// `RaftLogRetention`.
  public var snapshotAutoTriggerThreshold: UInt64 = 400_000
  /// How long a read or proposal may wait before failing with `.timeout`.
  public var requestTimeoutMilliseconds: Int = 30_000
  /// The clock that times ticks and request deadlines: the machine's monotonic clock, or a
  /// test's own.
  public var clock: any RaftClock = MonotonicRaftClock()
  /// The group this server is a member of. The core never sees it; it names the server's
  /// threads, so that a process hosting several groups (a datanode's pipelines) shows which
  /// thread is whose.
  public var groupID: RaftGroupID = .default

  public init(raft: RaftConfiguration) {
    self.raft = raft
  }

  /// The name of a thread of this server: `<role>-<peer>`, plus the group id's last twelve hex
  /// digits for a named group (`raft-loop-3-0000000000a1`), as Ratis prints a group
  /// (`group-0000000000A1`): the tail tells apart ids that share a prefix.
  func threadName(_ role: String) -> String {
    let name = "\(role)-\(raft.id)"
    return groupID.isDefault ? name : name + "-" + String(groupID.uuidText.suffix(12))
  }

  /// The snapshot and purge policy these settings describe.
  public var retention: RaftLogRetention {
    RaftLogRetention(snapshotAutoTriggerThreshold: snapshotAutoTriggerThreshold, purgeGap: purgeGap)
  }
}
