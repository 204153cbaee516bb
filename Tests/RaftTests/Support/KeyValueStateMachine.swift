import Foundation
import Raft
import RaftCore
import Synchronization

/// The tiny replicated key-value store the runtime tests use (not shipped): commands are
/// `put <key> <value>` and `get <key>` as UTF-8 text; every applied entry is recorded so tests
/// can compare the order replicas applied in.
final class KeyValueStateMachine: ReplicatedStateMachine {
  private struct State {
    var values: [String: String] = [:]
    var applied = TermIndex.zero
    var history: [TermIndex] = []
    var leaders: [(PeerID?, UInt64)] = []
    var installedCheckpoints = 0
  }

  private let state = Mutex(State())
  /// Where a follower fetches a checkpoint from (the tests' stand-in for an HTTP download).
  let checkpointSource: @Sendable (PeerID) -> (values: [String: String], applied: TermIndex)?

  init(checkpointSource: @escaping @Sendable (PeerID) -> (values: [String: String], applied: TermIndex)? = { _ in nil }) {
    self.checkpointSource = checkpointSource
  }

  func apply(_ entries: ArraySlice<CommittedEntry>) throws -> [[UInt8]] {
    state.withLock { state in
      entries.map { entry in
        state.applied = entry.termIndex
        guard entry.isApplicationEntry else { return [] }
        state.history.append(entry.termIndex)
        let words = String(decoding: entry.data, as: UTF8.self).split(separator: " ", maxSplits: 2).map(String.init)
        switch words.first {
        case "put" where words.count == 3:
          state.values[words[1]] = words[2]
          return Array("ok".utf8)
        default:
          return Array("bad command".utf8)
        }
      }
    }
  }

  var durablyAppliedIndex: TermIndex { state.withLock { $0.applied } }

  func installSnapshotFromLeader(leader: PeerID, firstLogIndex: TermIndex) async throws -> TermIndex {
    guard let checkpoint = checkpointSource(leader), checkpoint.applied.index + 1 >= firstLogIndex.index else {
      throw KeyValueError.noCheckpoint
    }
    state.withLock { state in
      state.values = checkpoint.values
      state.applied = checkpoint.applied
      state.installedCheckpoints += 1
    }
    return checkpoint.applied
  }

  /// The state a follower would download: every value and the index they reflect.
  var checkpoint: (values: [String: String], applied: TermIndex) { state.withLock { ($0.values, $0.applied) } }
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
