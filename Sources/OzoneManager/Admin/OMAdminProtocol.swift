import Foundation

/// The OM admin protocol: O3RPC methods on the OM's client port, beside `om.submitRequest`.
///
/// Bodies are JSON (UTF-8, keys sorted), not protobuf: these calls are rare, their messages are
/// small, and an operator can read them in a packet capture. Unknown fields are ignored, so a
/// newer OM may add fields without breaking an older CLI.
///
/// | method                   | request                 | reply                  |
/// |--------------------------|-------------------------|------------------------|
/// | `om.admin.roles`         | empty (or `{}`)         | `OMNodeStatus`         |
/// | `om.admin.transfer`      | `OMTransferRequest`     | `OMTransferResult`     |
/// | `om.admin.configuration` | empty (or `{}`)         | `OMConfigurationReply` |
/// | `om.admin.bootstrap`     | `OMBootstrapRequest`    | `OMBootstrapProgress`  |
/// | `om.admin.decommission`  | `OMDecommissionRequest` | `OMDecommissionResult` |
///
/// `transfer`, `bootstrap` and `decommission` go to the leader; another OM answers NOT_LEADER.
///
/// A refusal is an RPC error whose code is one of `OMAdminError.Code`'s raw values, with a
/// message for people.
public enum OMAdminProtocol {
  public static let rolesMethod = "om.admin.roles"
  public static let transferMethod = "om.admin.transfer"
  public static let configurationMethod = "om.admin.configuration"
  public static let bootstrapMethod = "om.admin.bootstrap"
  public static let decommissionMethod = "om.admin.decommission"

  static func encode(_ value: some Encodable) -> [UInt8] {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    // Our own plain structs of strings, numbers and booleans always encode.
    return Array(try! encoder.encode(value))
  }

  static func decode<Message: Decodable>(_ type: Message.Type, from bytes: [UInt8]) throws(OMAdminError) -> Message {
    do {
      return try JSONDecoder().decode(type, from: Data(bytes))
    } catch {
      throw OMAdminError(.malformedMessage, "not a valid \(type) message: \(error)")
    }
  }
}

/// Asks the leader to hand leadership to another OM (`o3 admin om transfer`).
public struct OMTransferRequest: Codable, Sendable, Equatable {
  /// The node to lead next; nil lets the leader pick its most up-to-date active follower
  /// (`transfer -r`).
  public var targetNodeId: String?

  public init(targetNodeId: String?) {
    self.targetNodeId = targetNodeId
  }
}

/// The outcome of a completed transfer: the target leads in a newer term.
public struct OMTransferResult: Codable, Sendable, Equatable {
  public var previousLeaderId: String
  public var leaderId: String
  public var term: UInt64

  public init(previousLeaderId: String, leaderId: String, term: UInt64) {
    self.previousLeaderId = previousLeaderId
    self.leaderId = leaderId
    self.term = term
  }
}

/// Why an admin call failed: a code to switch on and a message for the operator.
public struct OMAdminError: Error, Sendable, Equatable, CustomStringConvertible {
  /// What went wrong; the raw value travels as the RPC error code.
  public enum Code: String, Sendable {
    /// No connection or no answer in time.
    case unreachable = "UNREACHABLE"
    /// The call must go to the leader; the message names it when known.
    case notLeader = "NOT_LEADER"
    /// The transfer target is not a voting member of the service.
    case invalidTarget = "INVALID_TARGET"
    /// `transfer -r` found no active voting follower.
    case noEligibleFollower = "NO_ELIGIBLE_FOLLOWER"
    /// Raft refused to start the transfer.
    case transferRefused = "TRANSFER_REFUSED"
    /// The target did not take over in time; the old leader keeps leading.
    case transferTimedOut = "TRANSFER_TIMED_OUT"
    /// The OM is shutting down.
    case unavailable = "UNAVAILABLE"
    /// The OM's configuration file could not be re-read, or lacks what the call needs.
    case configurationError = "CONFIGURATION_ERROR"
    /// The leader's configuration lists the joining node at other addresses.
    case addressMismatch = "ADDRESS_MISMATCH"
    /// The node is not a member of the Raft group.
    case notMember = "NOT_A_MEMBER"
    /// Asked to remove itself, the leader handed leadership to another voter first; ask the new
    /// leader (the message names it).
    case leaderHandedOver = "LEADER_HANDED_OVER"
    /// Removing the node would leave fewer live voters than a majority of the group.
    case quorumAtRisk = "QUORUM_AT_RISK"
    /// Raft cannot change the membership right now (another change is not committed yet, or the
    /// leader has not committed an entry of its term); retry shortly.
    case membershipChangeRefused = "MEMBERSHIP_CHANGE_REFUSED"
    /// A request or reply that is not the protocol's JSON.
    case malformedMessage = "MALFORMED_MESSAGE"
    /// The OM does not serve the admin protocol (or answered with a code this build does not know).
    case unsupported = "UNSUPPORTED"
  }

  public var code: Code
  public var message: String

  public init(_ code: Code, _ message: String) {
    self.code = code
    self.message = message
  }

  public var description: String { "\(code.rawValue) \(message)" }
}
