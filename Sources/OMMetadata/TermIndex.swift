/// A position in the replicated log: the term and index of an applied transaction.
///
/// Stored in transactionInfoTable as Ozone does, the text `term#index`.
public struct TermIndex: Sendable, Hashable, Comparable, CustomStringConvertible {
  public var term: UInt64
  public var index: UInt64

  public init(term: UInt64, index: UInt64) {
    self.term = term
    self.index = index
  }

  public static let zero = TermIndex(term: 0, index: 0)

  public static func < (lhs: TermIndex, rhs: TermIndex) -> Bool {
    (lhs.index, lhs.term) < (rhs.index, rhs.term)
  }

  public var description: String { "\(term)#\(index)" }

  public var encoded: [UInt8] { Array(description.utf8) }

  /// Parses `term#index`; nil when the bytes are not in that form.
  public init?(encoded bytes: [UInt8]) {
    guard let text = String(validating: bytes, as: UTF8.self) else { return nil }
    let parts = text.split(separator: "#", omittingEmptySubsequences: false)
    guard parts.count == 2, let term = UInt64(parts[0]), let index = UInt64(parts[1]) else { return nil }
    self.init(term: term, index: index)
  }
}
