import Foundation
import Logging
import OMMetadata
import OMProto
import Raft
import RaftCore
import Synchronization
import SwiftProtobuf

/// The Ozone Manager as Raft's replicated state machine: committed entries are logged
/// `OMRequest`s, applied in log order by `OMStateMachine` on Raft's apply thread.
///
/// Entries that carry no request (the leader's no-op, membership changes) still reach the
/// double buffer as empty batches, so `transactionInfo` — and the index Raft may purge up to —
/// advances over them (Ozone tracks these too; forgetting them left its leaders "not ready").
final class OMRaftStateMachine: ReplicatedStateMachine {
  private let stateMachine: OMStateMachine
  private let store: OMMetadataStore
  private let limits: OMRequestLimits
  private let logger: Logger
  private let leader = Mutex<(peer: PeerID?, term: UInt64)>((nil, 0))
  private let retryCache: RetryCache

  init(stateMachine: OMStateMachine, retryCache: RetryCache, limits: OMRequestLimits, logger: Logger) {
    self.stateMachine = stateMachine
    self.retryCache = retryCache
    self.store = stateMachine.store
    self.limits = limits
    self.logger = logger
  }

  func apply(_ entries: ArraySlice<CommittedEntry>) throws -> [[UInt8]] {
    try entries.map { entry in
      let position = OMMetadata.TermIndex(term: entry.termIndex.term, index: entry.termIndex.index)
      guard entry.isApplicationEntry else {
        stateMachine.doubleBuffer.add(OMBatchPart(), termIndex: position)
        return []
      }
      let (request, response) = try stateMachine.applyLogged(entry.data, at: position)
      if let request, !request.clientID.isEmpty {
        retryCache.recordApplied(RetryCache.Key(clientID: request.clientID, callID: request.callID), response)
      }
      return try response.serializedBytes()
    }
  }

  /// What RocksDB holds: the double buffer's last flushed term#index.
  var durablyAppliedIndex: RaftCore.TermIndex {
    let flushed = stateMachine.doubleBuffer.flushedTermIndex
    return RaftCore.TermIndex(term: flushed.term, index: flushed.index)
  }

  func installSnapshotFromLeader(leader: PeerID, firstLogIndex: RaftCore.TermIndex) async throws -> InstalledCheckpoint {
    // Checkpoint download over /v2/dbCheckpoint arrives with the snapshot work; until then a
    // follower behind the leader's purged log cannot catch up, and says so.
    logger.error("leader \(leader) asks for a checkpoint install (its log starts at \(firstLogIndex)); this OM cannot install checkpoints yet")
    throw OMException(.notSupportedOperation, "checkpoint installation is not available yet")
  }

  func leaderChanged(to leader: PeerID?, term: UInt64) {
    self.leader.withLock { $0 = (leader, term) }
  }

  /// Serves a read-only `OMRequest` (already validated by the client service).
  func query(_ request: [UInt8]) throws -> [UInt8] {
    let decoded = try OMRequest(serializedBytes: request)
    return try OMRequestRouter.read(decoded, store: store, limits: limits).serializedBytes()
  }

  var currentLeader: (peer: PeerID?, term: UInt64) { leader.withLock { $0 } }
}
