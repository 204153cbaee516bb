import Foundation
import Raft
import RaftCore
import Synchronization

/// The tiny replicated key-value store the runtime tests use (not shipped): commands are
/// `put <key> <value>`, `get <key>` and `compact` (ask for the log to be purged through it at
/// once, as Ozone's Prepare does; answered `ok <its index>`) as UTF-8 text; every applied entry and every snapshot is
/// recorded so tests can compare the order replicas applied in and count snapshots.
final class KeyValueStateMachine: ReplicatedStateMachine {
  private struct State {
    var values: [String: String] = [:]
    var applied = TermIndex.zero
    var membership = MembershipTracker()
    var history: [TermIndex] = []
    var leaders: [(PeerID?, UInt64)] = []
    var installedCheckpoints = 0
    var snapshots: [TermIndex] = []
    var purgeRequest: TermIndex?
  }

  private let state = Mutex(State())
  /// Where a follower fetches a checkpoint from (the tests' stand-in for an HTTP download).
  let checkpointSource: @Sendable (PeerID) -> Checkpoint?

  /// What a follower downloads: every value, the index they reflect, the membership there.
  struct Checkpoint: Sendable {
    var values: [String: String]
    var applied: TermIndex
    var membership: Membership
  }

  init(checkpointSource: @escaping @Sendable (PeerID) -> Checkpoint? = { _ in nil }) {
    self.checkpointSource = checkpointSource
  }

  func apply(_ entries: ArraySlice<CommittedEntry>) throws -> [[UInt8]] {
    try state.withLock { state in
      try entries.map { entry in
        state.applied = entry.termIndex
        try state.membership.observe(entry)
        guard entry.isApplicationEntry else { return [] }
        state.history.append(entry.termIndex)
        let words = String(decoding: entry.data, as: UTF8.self).split(separator: " ", maxSplits: 2).map(String.init)
        switch words.first {
        case "put" where words.count == 3:
          state.values[words[1]] = words[2]
          return Array("ok".utf8)
        case "compact" where words.count == 1:
          state.purgeRequest = entry.termIndex
          return Array("ok \(entry.termIndex.index)".utf8)
        default:
          return Array("bad command".utf8)
        }
      }
    }
  }

  var durablyAppliedIndex: TermIndex { state.withLock { $0.applied } }

  func takeSnapshot() throws -> TermIndex {
    state.withLock { state in
      state.snapshots.append(state.applied)
      return state.applied
    }
  }

  func takePurgeRequest() -> TermIndex? {
    state.withLock { state in
      defer { state.purgeRequest = nil }
      return state.purgeRequest
    }
  }

  /// The positions of the automatic snapshots taken so far, in order.
  var snapshots: [TermIndex] { state.withLock { $0.snapshots } }

  func installSnapshotFromLeader(leader: PeerID, firstLogIndex: TermIndex) async throws -> InstalledCheckpoint {
    guard let checkpoint = checkpointSource(leader), checkpoint.applied.index + 1 >= firstLogIndex.index else {
      throw KeyValueError.noCheckpoint
    }
    state.withLock { state in
      state.values = checkpoint.values
      state.applied = checkpoint.applied
      state.membership = MembershipTracker(checkpoint.membership)
      state.installedCheckpoints += 1
    }
    return InstalledCheckpoint(position: checkpoint.applied, membership: checkpoint.membership)
  }

  /// The state a follower would download.
  var checkpoint: Checkpoint {
    state.withLock { Checkpoint(values: $0.values, applied: $0.applied, membership: $0.membership.membership) }
  }
  var installedCheckpoints: Int { state.withLock { $0.installedCheckpoints } }

  func leaderChanged(to leader: PeerID?, term: UInt64) {
    state.withLock { $0.leaders.append((leader, term)) }
  }

  func query(_ request: [UInt8]) throws -> [UInt8] {
    let key = String(decoding: request, as: UTF8.self)
    return Array((state.withLock { $0.values[key] } ?? "").utf8)
  }

  /// The positions of the application entries applied so far, in order.
  var history: [TermIndex] { state.withLock { $0.history } }
  var values: [String: String] { state.withLock { $0.values } }
}

enum KeyValueError: Error {
  case noCheckpoint
}
