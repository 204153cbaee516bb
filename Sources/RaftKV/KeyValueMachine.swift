import Raft
import RaftCore
import Synchronization

/// A replicated key-value store for testing and benchmarking the Raft stack (not shipped).
///
/// Its state lives in memory only, so `durablyAppliedIndex` and every snapshot stay at zero: a
/// restarted replica rebuilds everything by replaying its log, and the log is never purged.
public final class KeyValueMachine: ReplicatedStateMachine {
  private struct State {
    var values: [String: String] = [:]
    var applied: [TermIndex] = []
  }

  private let state = Mutex(State())

  public init() {}

  public func apply(_ entries: ArraySlice<CommittedEntry>) throws -> [[UInt8]] {
    state.withLock { state in
      entries.map { entry in
        guard entry.isApplicationEntry else { return [] }
        guard let (key, value) = KeyValueCommand.decodePut(entry.data) else { return Array("BAD".utf8) }
        state.values[key] = value
        state.applied.append(entry.termIndex)
        return Array("OK".utf8)
      }
    }
  }

  public var durablyAppliedIndex: TermIndex { .zero }

  /// Nothing is durable, so nothing may be purged: the snapshot stands at zero.
  public func takeSnapshot() throws -> TermIndex { .zero }

  public func takePurgeRequest() -> TermIndex? { nil }

  public func installSnapshotFromLeader(leader: PeerID, firstLogIndex: TermIndex) async throws -> InstalledCheckpoint {
    throw KeyValueMachineError.checkpointsUnsupported
  }

  public func leaderChanged(to leader: PeerID?, term: UInt64) {}

  public func query(_ request: [UInt8]) throws -> [UInt8] {
    let key = String(decoding: request, as: UTF8.self)
    return KeyValueCommand.encodeValue(state.withLock { $0.values[key] })
  }

  /// How many puts were applied.
  public var appliedCount: Int { state.withLock { $0.applied.count } }
}

enum KeyValueMachineError: Error {
  case checkpointsUnsupported
}

/// The store's wire formats: a put is `key \n value`; a read answers `V<value>` or `N` (absent).
public enum KeyValueCommand {
  public static func encodePut(_ key: String, _ value: String) -> [UInt8] {
    precondition(!key.contains("\n"), "keys cannot contain a newline")
    return Array("\(key)\n\(value)".utf8)
  }

  static func decodePut(_ bytes: [UInt8]) -> (String, String)? {
    guard let newline = bytes.firstIndex(of: UInt8(ascii: "\n")) else { return nil }
    return (String(decoding: bytes[..<newline], as: UTF8.self), String(decoding: bytes[(newline + 1)...], as: UTF8.self))
  }

  static func encodeValue(_ value: String?) -> [UInt8] {
    value.map { Array("V\($0)".utf8) } ?? Array("N".utf8)
  }

  /// nil for an absent key.
  public static func decodeValue(_ bytes: [UInt8]) -> String?? {
    guard let first = bytes.first else { return .none }
    switch first {
    case UInt8(ascii: "V"): return .some(String(decoding: bytes.dropFirst(), as: UTF8.self))
    case UInt8(ascii: "N"): return .some(nil)
    default: return .none
    }
  }
}
