import O3RPC
import OMProto

/// Why a client call failed: the OM refused it (a status), or it never got an answer.
public enum OzoneClientError: Error, CustomStringConvertible, Sendable {
  /// The OM answered with a status other than OK.
  case refused(status: Status, message: String)
  /// The call did not complete and retrying would not help: connection refused by the only OM
  /// at connect time, or a protocol-level error.
  case transport(String)
  /// The answer was not a valid OMResponse.
  case malformedResponse(String)
  /// Every retry allowed by `ozone.client.failover.max.attempts` was spent; the report names
  /// every OM tried and what it answered last.
  case failoverExhausted(OMFailoverReport)
  /// The client was closed.
  case closed

  public var description: String {
    switch self {
    case .refused(let status, let message): "\(status.ozoneName) \(message)"
    case .transport(let message): "cannot reach the OM: \(message)"
    case .malformedResponse(let message): "the OM sent an answer that is not an OMResponse: \(message)"
    case .failoverExhausted(let report): "\(report)"
    case .closed: "the OzoneClient is closed"
    }
  }

  /// The OM status, when the OM refused the call.
  public var status: Status? {
    if case .refused(let status, _) = self { return status }
    return nil
  }
}

/// How a call that found no OM able to answer went, OM by OM.
public struct OMFailoverReport: Sendable, Equatable, CustomStringConvertible {
  /// One OM's part in the call.
  public struct NodeOutcome: Sendable, Equatable {
    public var node: OMNodeAddress
    public var tries: Int
    /// What the last try answered: a status with the OM's message, or why no answer came.
    public var lastAnswer: String
  }

  /// Nil for a client of a single OM.
  public var serviceID: String?
  /// Every try of the call, the first included.
  public var tries: Int
  /// The OMs tried, in configuration order.
  public var nodes: [NodeOutcome]

  public var description: String {
    let service = serviceID.map { " of service \($0)" } ?? ""
    let outcomes = nodes.map { "\($0.node) tried \($0.tries)×, last \($0.lastAnswer)" }
    return "cannot reach the OM leader\(service) after \(tries) tries: " + outcomes.joined(separator: "; ")
  }
}
