/// One entry of the replicated log.
///
/// A new leader's first entry is a `normal` entry with empty `data` (the no-op of Raft paper
/// §8); applications skip empty normal entries. A `membershipChange` entry's `data` is a
/// ``MembershipChange`` encoded with ``MembershipChange/encoded()``.
public struct LogEntry: Hashable, Sendable, CustomStringConvertible {
  public var term: UInt64
  public var index: UInt64
  public var kind: EntryKind
  public var data: [UInt8]

  public init(term: UInt64, index: UInt64, kind: EntryKind = .normal, data: [UInt8] = []) {
    precondition(index > 0, "log indexes start at 1")
    precondition(term > 0, "entries are created in a term of at least 1")
    self.term = term
    self.index = index
    self.kind = kind
    self.data = data
  }

  /// The position of this entry.
  public var termIndex: TermIndex { TermIndex(term: term, index: index) }

  /// The bytes this entry counts against the byte limits (message size, inflight window,
  /// uncommitted bytes): its payload. The fixed header is left out so that no-ops are free.
  public var payloadBytes: Int { data.count }

  public var description: String {
    switch kind {
    case .normal: "\(term)/\(index) \(data.count)B"
    case .membershipChange:
      "\(term)/\(index) " + ((try? MembershipChange(decoding: data))?.description ?? "bad-change")
    }
  }
}

/// What an entry carries: application data or a membership change.
public enum EntryKind: UInt8, Hashable, Sendable {
  case normal = 0
  case membershipChange = 1
}
