/// Why the core refused an input: a code a program can switch on and a message a person can
/// act on.
///
/// Refusals are ordinary operating conditions (this peer is not the leader, a limit is full);
/// broken invariants are not errors but `precondition` failures.
public struct RaftError: Error, Hashable, Sendable, CustomStringConvertible {
  /// The kind of refusal.
  public enum Code: String, Hashable, Sendable {
    /// This peer is not the leader; `leaderHint` names the leader when it is known.
    case notLeader
    /// The leader is handing leadership over and accepts no proposals until that ends.
    case leadershipTransferInProgress
    /// A membership change is in the log but not yet committed; one change at a time.
    case membershipChangeInProgress
    /// The leader has not yet committed an entry of its own term (its no-op), so it can neither
    /// change the membership nor serve reads yet.
    case leaderNotReady
    /// The proposal would take the uncommitted tail of the log past `uncommittedBytesMax`.
    case uncommittedBytesExceeded
    /// Too many read requests are waiting for confirmation (`pendingReadRequestsMax`).
    case readQueueFull
    /// The membership change does not fit the current membership.
    case invalidMembershipChange
    /// A membership-change entry's payload cannot be decoded.
    case malformedMembershipChange
    /// The leadership transfer target is not a voter of the current membership.
    case invalidTransferTarget
    /// A configuration knob is outside its bounds.
    case invalidConfiguration
  }

  public var code: Code
  public var message: String
  /// The peer this one believes is leader, for ``Code/notLeader``.
  public var leaderHint: PeerID?

  public init(_ code: Code, _ message: String, leaderHint: PeerID? = nil) {
    self.code = code
    self.message = message
    self.leaderHint = leaderHint
  }

  public var description: String { "\(code.rawValue): \(message)" }
}
