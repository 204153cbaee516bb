/// The identity of one Raft peer (an OM replica), unique and never reused with a wiped log.
///
/// Peers are compared and sorted by their number so that every iteration over a set of peers
/// happens in the same order on every run (no hashing decides an order anywhere in the core).
public struct PeerID: Hashable, Comparable, Sendable, CustomStringConvertible,
  ExpressibleByIntegerLiteral
{
  /// The peer's number; zero is reserved for "nobody" and never names a peer.
  public let rawValue: UInt64

  public init(_ rawValue: UInt64) {
    precondition(rawValue != 0, "peer 0 is reserved for 'nobody'")
    self.rawValue = rawValue
  }

  public init(integerLiteral value: UInt64) {
    self.init(value)
  }

  public static func < (left: PeerID, right: PeerID) -> Bool {
    left.rawValue < right.rawValue
  }

  public var description: String { String(rawValue) }
}

/// A position in the Raft log: the index of an entry and the term in which it was created.
///
/// Two logs that hold an entry with the same index and term are identical up to that index
/// (the Log Matching Property, Raft paper §5.3), which is why this pair is what peers exchange.
/// The OM's applied and flushed positions are this type too (OMMetadata adds Ozone's persisted
/// `term#index` text); within one log, term order and index order agree.
public struct TermIndex: Hashable, Comparable, Sendable, CustomStringConvertible {
  public var term: UInt64
  public var index: UInt64

  public init(term: UInt64, index: UInt64) {
    self.term = term
    self.index = index
  }

  /// The position before the first entry of an empty log.
  public static let zero = TermIndex(term: 0, index: 0)

  /// Orders by term first, then index: the "at least as up-to-date" order of Raft paper §5.4.1.
  public static func < (left: TermIndex, right: TermIndex) -> Bool {
    (left.term, left.index) < (right.term, right.index)
  }

  public var description: String { "\(term)/\(index)" }
}
