import Foundation
import Logging
import Raft
import RaftCore
import SCMDomain
import SCMProto
import SwiftProtobuf
import Synchronization

/// SCM as Raft's replicated state machine: committed entries are `SCMRatisRequest`s, applied in log
/// order by `SCMStateMachine` on Raft's apply thread, each written to scm.db with its position.
///
/// Not yet here (later steps): snapshots. `takeSnapshot` answers `.zero`, so the log is never
/// purged and a new or lagging SCM always catches up from the log itself; installing a checkpoint
/// from the leader is therefore never needed and refuses.
final class SCMRaftStateMachine: ReplicatedStateMachine {
  let stateMachine: SCMStateMachine
  private let leader = Mutex<(peer: PeerID?, term: UInt64)>((nil, 0))
  /// Hears every leader change (on Raft's threads: must not block).
  private let onLeaderChange: @Sendable (PeerID?, UInt64) -> Void

  init(stateMachine: SCMStateMachine, onLeaderChange: @escaping @Sendable (PeerID?, UInt64) -> Void) {
    self.stateMachine = stateMachine
    self.onLeaderChange = onLeaderChange
  }

  func apply(_ entries: ArraySlice<CommittedEntry>) throws -> [[UInt8]] {
    try entries.map { entry in
      guard entry.isApplicationEntry else {
        try stateMachine.skip(at: entry.termIndex)
        return []
      }
      return try stateMachine.apply(entry.data, at: entry.termIndex).serializedBytes()
    }
  }

  /// Read once, when Raft starts: the position scm.db holds, whose effects a restart keeps (the
  /// database's own write-ahead log; a lost unsynced tail takes its position back with it).
  var durablyAppliedIndex: TermIndex { stateMachine.applied }

  func takeSnapshot() throws -> TermIndex { .zero }

  func takePurgeRequest() -> TermIndex? { nil }

  func installSnapshotFromLeader(leader: PeerID, firstLogIndex: TermIndex) async throws -> InstalledCheckpoint {
    throw SCMServiceError(.unsupportedOperation, "this SCM cannot install a checkpoint yet; its log is never purged, so none is needed")
  }

  func leaderChanged(to leader: PeerID?, term: UInt64) {
    self.leader.withLock { $0 = (leader, term) }
    onLeaderChange(leader, term)
  }

  func query(_ request: [UInt8]) throws -> [UInt8] { [] }

  var currentLeader: (peer: PeerID?, term: UInt64) { leader.withLock { $0 } }
}
