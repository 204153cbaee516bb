import RaftCore

/// How far a ``ReadyLog/sync()`` got when it returned.
package enum ReadyLogSync: Sendable, Equatable {
  /// Everything written so far is durable.
  case durable
  /// The sync runs on; its owner calls ``ReadyHandler/syncFinished(_:)`` when it ends.
  case pending
}

/// The writes a Ready asks of the log, in the order ``ReadyHandler`` issues them (snapshot,
/// entries, hard state, sync). The runtime passes its `RaftLogStore`, whose sync blocks; the
/// simulator passes its simulated disk, whose sync takes virtual time and may be lost in a crash.
package protocol ReadyLog {
  /// Restarts the log after a checkpoint the state machine installed.
  func installSnapshot(_ metadata: SnapshotMetadata) throws
  /// Writes entries (the first may replace a conflicting suffix); not yet durable.
  func append(_ entries: [LogEntry]) throws
  /// Records the hard state; durable no later than the next sync.
  func setHardState(_ state: HardState) throws
  /// Makes everything written so far durable, or starts to.
  func sync() throws -> ReadyLogSync
}

/// Where a Ready's messages go.
package protocol ReadyTransport {
  /// Sends messages to their `to` peers; never blocks, never throws (see `RaftTransport`).
  func send(_ messages: [RaftMessage])
  /// Learns where a peer listens, from a membership change's context.
  func setAddress(_ address: String, of peer: PeerID)
}

/// What a Ready hands to the state machine's side: the runtime's apply thread and pending
/// requests, or the simulator's key-value state machine and clients.
package protocol ReadyHandOff {
  /// The leader or this peer's role changed (`previous` is nil for the first Ready).
  func roleChanged(to softState: SoftState, from previous: SoftState?, term: UInt64)
  /// The log now starts after a checkpoint the state machine installed.
  func logRestarted(at position: TermIndex)
  /// Committed, durable entries, contiguous and ascending, to apply in order.
  func apply(_ entries: [LogEntry])
  /// Reads the leader confirmed: serve each once applied reaches its index.
  func readsConfirmed(_ states: [ReadState])
  /// Fetch and install the leader's checkpoint; report the outcome through
  /// ``ReadyHandler/snapshotInstalled(_:)`` or ``ReadyHandler/snapshotInstallFailed()``.
  func installSnapshot(_ notice: SnapshotNotice)
  /// The log could not be written: Raft stops; fail everything waiting.
  func persistFailed(_ cause: Error)
}
