/// Why RaftRPC refused a configuration, a batch or a message.
///
/// `code` is stable for programs to switch on; its raw value is also the error code a peer sees
/// in O3RPC's error reply. `message` says what was wrong in words a person can act on.
public struct RaftRPCError: Error, Sendable, Equatable, CustomStringConvertible {
  /// What went wrong, in a form a program can switch on.
  public enum Code: String, Sendable, Hashable {
    /// A ``RaftRPCLimits`` value is out of its bounds or inconsistent with another.
    case invalidConfiguration = "RAFT_INVALID_CONFIGURATION"
    /// A batch payload is not a valid raft.proto `Batch`.
    case malformedBatch = "RAFT_MALFORMED_BATCH"
    /// A message parsed but breaks a rule RaftCore relies on (peer 0, entry index 0, an unknown
    /// enum value, a malformed membership, non-consecutive entries…).
    case invalidMessage = "RAFT_INVALID_MESSAGE"
    /// A batch addressed to another peer reached this one: the sender's address book is wrong.
    case wrongPeer = "RAFT_WRONG_PEER"
    /// A batch came from a peer this process has no address for in any group it hosts: not a
    /// member as far as it knows (a stranger, or a member it has not heard of yet).
    case unknownPeer = "RAFT_UNKNOWN_PEER"
    /// A transport was asked for a group the endpoint already hosts.
    case groupExists = "RAFT_GROUP_EXISTS"
    /// A transport was asked for a group after the endpoint shut down.
    case endpointStopped = "RAFT_ENDPOINT_STOPPED"
  }

  public var code: Code
  public var message: String

  public init(_ code: Code, _ message: String) {
    self.code = code
    self.message = message
  }

  public var description: String { "\(code.rawValue): \(message)" }
}
