import RaftCore
import SCMProto

/// A refusal with Ozone's status (`SCMStatus`), the reason, and with `SCM_NOT_LEADER` the leader
/// when one is known.
public struct SCMServiceError: Error, CustomStringConvertible, Sendable {
  public var status: SCMStatus
  public var message: String
  public var leader: PeerID?

  public init(_ status: SCMStatus, _ message: String, leader: PeerID? = nil) {
    self.status = status
    self.message = message
    self.leader = leader
  }

  public var description: String { "\(status): \(message)" }
}
