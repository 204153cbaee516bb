/// A single-server membership change, proposed with `RaftNode.proposeMembershipChange(_:)`.
///
/// Only one server changes at a time (Raft thesis §4.1), so every pair of majorities of the old
/// and new membership overlap and no joint consensus is needed.
public struct MembershipChange: Hashable, Sendable, CustomStringConvertible {
  /// What happens to `peer`.
  public enum Kind: UInt8, Hashable, Sendable {
    /// Add a non-voting member that receives the log (how a new replica catches up).
    case addLearner = 1
    /// Add a voting member directly (safe, but a lagging new voter can slow commits).
    case addVoter = 2
    /// Turn a learner into a voter.
    case promoteLearner = 3
    /// Remove a voter or a learner.
    case removePeer = 4
  }

  public var kind: Kind
  public var peer: PeerID
  /// Opaque bytes for the application (for example the new peer's address); the core ignores
  /// them. At most ``contextBytesMax`` bytes.
  public var context: [UInt8]

  /// The bound on `context`, so that a membership entry stays small.
  public static let contextBytesMax = 4096

  public init(_ kind: Kind, peer: PeerID, context: [UInt8] = []) {
    precondition(context.count <= Self.contextBytesMax, "membership change context too large")
    self.kind = kind
    self.peer = peer
    self.context = context
  }

  /// The entry payload: a format byte, the kind byte, the peer as 8 big-endian bytes, then the
  /// context.
  public func encoded() -> [UInt8] {
    var bytes: [UInt8] = [Self.formatVersion, kind.rawValue]
    bytes.reserveCapacity(10 + context.count)
    for shift in stride(from: 56, through: 0, by: -8) {
      bytes.append(UInt8(truncatingIfNeeded: peer.rawValue >> UInt64(shift)))
    }
    bytes.append(contentsOf: context)
    return bytes
  }

  /// Decodes an entry payload written by ``encoded()``.
  public init(decoding bytes: [UInt8]) throws(RaftError) {
    guard bytes.count >= 10, bytes[0] == Self.formatVersion,
      let kind = Kind(rawValue: bytes[1])
    else {
      throw RaftError(.malformedMembershipChange, "membership change payload is malformed")
    }
    var raw: UInt64 = 0
    for byte in bytes[2..<10] { raw = raw << 8 | UInt64(byte) }
    guard raw != 0, bytes.count - 10 <= Self.contextBytesMax else {
      throw RaftError(.malformedMembershipChange, "membership change names peer 0 or is too large")
    }
    self.init(kind, peer: PeerID(raw), context: Array(bytes[10...]))
  }

  private static let formatVersion: UInt8 = 1

  public var description: String {
    switch kind {
    case .addLearner: "add-learner \(peer)"
    case .addVoter: "add-voter \(peer)"
    case .promoteLearner: "promote \(peer)"
    case .removePeer: "remove \(peer)"
    }
  }
}
