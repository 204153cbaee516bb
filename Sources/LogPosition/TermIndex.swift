/// A position in the Raft log: the index of an entry and the term in which it was created.
///
/// Two logs that hold an entry with the same index and term are identical up to that index
/// (the Log Matching Property, Raft paper §5.3), which is why this pair is what peers exchange.
/// The OM's applied and flushed positions are this type too (OMMetadata adds Ozone's persisted
/// `term#index` text); within one log, term order and index order agree. It lives in a module of
/// its own so that the consensus core and the OM's metadata share it without either importing
/// the other; RaftCore and OMMetadata re-export it.
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
