import RaftCore

/// The replicated key-value store each simulated node applies committed entries to.
///
/// It also follows membership-change entries, so that a checkpoint knows the membership in
/// force at its index (what a follower's log must restart with after installing it). `digest`
/// summarises the map in O(1) per change (XOR of per-pair hashes), so every node's state can be
/// compared with the reference after every entry.
struct KeyValueStateMachine: Sendable {
  private(set) var values: [String: String] = [:]
  private(set) var applied: TermIndex
  private(set) var membership: Membership
  private(set) var digest: UInt64 = 0

  init(membership: Membership) {
    applied = .zero
    self.membership = membership
  }

  init(checkpoint: StateMachineCheckpoint) {
    values = checkpoint.values
    applied = checkpoint.applied
    membership = checkpoint.membership
    digest = checkpoint.digest
  }

  /// A durable copy of the current state.
  var checkpoint: StateMachineCheckpoint {
    StateMachineCheckpoint(applied: applied, values: values, membership: membership, digest: digest)
  }

  /// Applies the next committed entry; returns the client command it carried and its output.
  mutating func apply(_ entry: LogEntry) -> (command: ClientCommand, output: KeyValueOutput)? {
    precondition(entry.index == applied.index + 1, "applied \(entry.index) after \(applied)")
    applied = entry.termIndex
    switch entry.kind {
    case .membershipChange:
      do {
        membership = try membership.applying(try MembershipChange(decoding: entry.data))
      } catch {
        preconditionFailure("membership entry \(entry.termIndex) does not apply: \(error)")
      }
      return nil
    case .normal:
      guard !entry.data.isEmpty else { return nil }
      guard let command = ClientCommand(decoding: entry.data) else {
        preconditionFailure("committed entry \(entry.termIndex) is not a client command")
      }
      return (command, execute(command.input))
    }
  }

  private mutating func execute(_ input: KeyValueInput) -> KeyValueOutput {
    switch input {
    case .put(let key, let value):
      set(key, value)
      return .done
    case .delete(let key):
      set(key, nil)
      return .done
    case .get(let key):
      return .value(values[key])
    case .compareAndSet(let key, let expected, let new):
      guard values[key] == expected else { return .swapped(false) }
      set(key, new)
      return .swapped(true)
    }
  }

  private mutating func set(_ key: String, _ value: String?) {
    if let old = values[key] { digest ^= Self.pairHash(key, old) }
    values[key] = value
    if let value { digest ^= Self.pairHash(key, value) }
  }

  private static func pairHash(_ key: String, _ value: String) -> UInt64 {
    TraceHash.of(Array(key.utf8) + [0] + Array(value.utf8))
  }
}

/// A state machine's durable checkpoint: the state after applying every entry through
/// `applied`. Written atomically (like a RocksDB checkpoint), so a crash keeps it whole.
struct StateMachineCheckpoint: Sendable {
  var applied: TermIndex
  var values: [String: String]
  var membership: Membership
  var digest: UInt64
}
