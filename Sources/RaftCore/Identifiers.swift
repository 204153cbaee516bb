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
