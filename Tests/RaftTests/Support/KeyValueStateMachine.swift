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
  }

  private let state = Mutex(State())

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
    throw KeyValueError.noSnapshots
  }

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
  case noSnapshots
}
