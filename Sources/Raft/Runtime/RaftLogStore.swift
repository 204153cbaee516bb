import RaftCore

/// The durable log the runtime drives: what the core reads (`RaftStorage`) plus the writes a
/// Ready asks for. Implementations are internally synchronised: the loop thread reads and
/// writes, and the apply thread purges (and status calls read) meanwhile.
public protocol RaftLogStore: RaftStorage, AnyObject, Sendable {
  /// Writes entries (the first may replace a conflicting suffix); not yet durable.
  func append(_ entries: [LogEntry]) throws
  /// Records the hard state; durable no later than the next `sync`, never before the entries
  /// appended before it.
  func setHardState(_ state: HardState) throws
  /// Makes everything written so far durable.
  func sync() throws
  /// Restarts the log after a checkpoint the state machine installed (notification mode).
  func installSnapshot(_ metadata: SnapshotMetadata) throws
  /// Deletes whole segments up to `index` (at most the durably applied index).
  func purge(through index: UInt64) throws
  /// The bytes and segment files the log occupies.
  var diskUsage: RaftLogDiskUsage { get }
  /// Releases files and locks; called once the runtime has stopped using the log.
  func close()
}
extension DurableRaftLog: RaftLogStore {}
