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
/// A membership entry also writes the membership it results in to metaTable, so that a
/// checkpoint of om.db tells the follower installing it which group it is in.
final class OMRaftStateMachine: ReplicatedStateMachine {
  private let stateMachine: OMStateMachine
  private let store: OMMetadataStore
  private let limits: OMRequestLimits
  private let logger: Logger
  private let leader = Mutex<(peer: PeerID?, term: UInt64)>((nil, 0))
  private let retryCache: RetryCache
  private let installer: OMCheckpointInstaller
  /// The membership as of the last applied entry; written to metaTable with every membership
  /// entry, so that a checkpoint carries the membership in force at its index.
  private let membership: Mutex<MembershipTracker>

  /// - Parameter membership: the membership recorded in the database (see `recordedMembership`).
  init(
    stateMachine: OMStateMachine, retryCache: RetryCache, installer: OMCheckpointInstaller, membership: Membership,
    limits: OMRequestLimits, logger: Logger
  ) {
    self.stateMachine = stateMachine
    self.retryCache = retryCache
    self.installer = installer
    self.membership = Mutex(MembershipTracker(membership))
    self.store = stateMachine.store
    self.limits = limits
    self.logger = logger
  }

  /// The membership om.db records as of its flushed index. A database flushed before O3
  /// recorded memberships falls back to `configured`; a new one starts empty, because Raft
  /// replays the founding membership entries from index 1.
  static func recordedMembership(in store: OMMetadataStore, configured: Membership) throws -> Membership {
    if let bytes = try store.metaValue(OMRaftMembershipRecord.key) { return try OMRaftMembershipRecord.decode(bytes) }
    return try store.transactionInfo() == .zero ? .empty : configured
  }

  func apply(_ entries: ArraySlice<CommittedEntry>) throws -> [[UInt8]] {
    try entries.map { entry in
      let position = OMMetadata.TermIndex(term: entry.termIndex.term, index: entry.termIndex.index)
      if entry.kind == .membershipChange {
        let current = try membership.withLock { tracker in
          try tracker.observe(entry)
          return tracker.membership
        }
        var part = OMBatchPart()
        part.meta = [TableChange(key: OMRaftMembershipRecord.key, value: OMRaftMembershipRecord.encode(current))]
        stateMachine.doubleBuffer.add(part, termIndex: position)
        return []
      }
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
    let installed = try await installer.install(from: leader, firstLogIndex: firstLogIndex.index)
    membership.withLock { $0 = MembershipTracker(installed.membership) }
    return InstalledCheckpoint(
      position: RaftCore.TermIndex(term: installed.position.term, index: installed.position.index),
      membership: installed.membership)
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
