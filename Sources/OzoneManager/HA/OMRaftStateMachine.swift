import Foundation
import Logging
import OMDomain
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
  /// Hears each membership an applied entry results in (on the apply thread: must not block).
  private let onMembershipChange: @Sendable (Membership) -> Void

  /// - Parameter membership: the membership recorded in the database (see `recordedMembership`).
  init(
    stateMachine: OMStateMachine, retryCache: RetryCache, installer: OMCheckpointInstaller, membership: Membership,
    limits: OMRequestLimits, logger: Logger, onMembershipChange: @escaping @Sendable (Membership) -> Void = { _ in }
  ) {
    self.onMembershipChange = onMembershipChange
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
      let position = entry.termIndex
      if entry.kind == .membershipChange {
        let current = try membership.withLock { tracker in
          try tracker.observe(entry)
          return tracker.membership
        }
        var part = OMBatchPart()
        part.meta = [TableChange(key: OMRaftMembershipRecord.key, value: OMRaftMembershipRecord.encode(current))]
        stateMachine.doubleBuffer.add(part, termIndex: position)
        onMembershipChange(current)
        return []
      }
      guard entry.isApplicationEntry else {
        stateMachine.doubleBuffer.add(OMBatchPart(), termIndex: position)
        return []
      }
      let (request, response) = try stateMachine.applyLogged(entry.data, at: position)
      // Serialized once: the same bytes go to the retry cache and, on the leader, to the client.
      let answer: [UInt8] = try response.serializedBytes()
      if let request, !request.clientID.isEmpty {
        retryCache.recordApplied(RetryCache.Key(clientID: request.clientID, callID: request.callID), answer: answer)
      }
      return answer
    }
  }

  /// What RocksDB holds: the double buffer's last flushed term#index.
  var durablyAppliedIndex: TermIndex { stateMachine.doubleBuffer.flushedTermIndex }

  /// Ozone's `takeSnapshot`: the database is the snapshot, so this waits for the double buffer
  /// to write everything applied, then flushes RocksDB's memtables to SST files (its batches
  /// reach RocksDB without fsync, the Raft log being the write-ahead log), and reports the index
  /// written before the flush: the log may then be purged behind it and a power cut loses nothing.
  func takeSnapshot() throws -> TermIndex {
    stateMachine.doubleBuffer.awaitFlush()
    let snapshot = durablyAppliedIndex
    try stateMachine.store.flushToDisk()
    return snapshot
  }

  /// A Prepare applied: its index is flushed and the log is to be purged through it, once
  /// RocksDB's memtables are on disk (as for a snapshot). A failed flush purges nothing.
  func takePurgeRequest() -> TermIndex? {
    guard let request = stateMachine.prepareState.takePurgeRequest() else { return nil }
    do {
      try stateMachine.store.flushToDisk()
    } catch {
      logger.error("not purging the Raft log through the prepare index \(request): flushing RocksDB failed: \(error)")
      return nil
    }
    return request
  }

  var prepareState: OMPrepareState { stateMachine.prepareState }

  func installSnapshotFromLeader(leader: PeerID, firstLogIndex: TermIndex) async throws -> InstalledCheckpoint {
    let installed = try await installer.install(from: leader, firstLogIndex: firstLogIndex.index)
    membership.withLock { $0 = MembershipTracker(installed.membership) }
    // The leader's database says whether it was prepared at the installed index.
    try stateMachine.prepareState.reload(from: store)
    return InstalledCheckpoint(
      position: installed.position, membership: installed.membership)
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
