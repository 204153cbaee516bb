import Raft
import RaftCore

/// The OM's replicated state machine with each apply batch timed into `OMMetrics`.
///
/// A decorator so that neither the Raft runtime nor the state machine carries metrics code.
final class TimedStateMachine: ReplicatedStateMachine {
  private let base: any ReplicatedStateMachine
  private let metrics: OMMetrics

  init(_ base: any ReplicatedStateMachine, metrics: OMMetrics) {
    self.base = base
    self.metrics = metrics
  }

  func apply(_ entries: ArraySlice<CommittedEntry>) throws -> [[UInt8]] {
    let start = ContinuousClock.now
    let responses = try base.apply(entries)
    metrics.observeApply(seconds: (ContinuousClock.now - start).seconds, entries: entries.count)
    return responses
  }

  var durablyAppliedIndex: TermIndex { base.durablyAppliedIndex }

  func takeSnapshot() throws -> TermIndex { try base.takeSnapshot() }

  func takePurgeRequest() -> TermIndex? { base.takePurgeRequest() }

  func installSnapshotFromLeader(leader: PeerID, firstLogIndex: TermIndex) async throws -> InstalledCheckpoint {
    try await base.installSnapshotFromLeader(leader: leader, firstLogIndex: firstLogIndex)
  }

  func leaderChanged(to leader: PeerID?, term: UInt64) { base.leaderChanged(to: leader, term: term) }

  func query(_ request: [UInt8]) throws -> [UInt8] { try base.query(request) }
}
