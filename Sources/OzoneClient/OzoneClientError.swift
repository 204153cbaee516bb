import O3RPC
import OMProto

/// Why a client call failed: the OM refused it (a status), or it never got an answer.
public enum OzoneClientError: Error, CustomStringConvertible, Sendable {
  /// The OM answered with a status other than OK.
  case refused(status: Status, message: String)
  /// The call did not complete: connection, deadline or protocol trouble.
  case transport(String)
  /// The answer was not a valid OMResponse.
  case malformedResponse(String)

  public var description: String {
    switch self {
    case .refused(let status, let message): "\(status.ozoneName) \(message)"
    case .transport(let message): "cannot reach the OM: \(message)"
    case .malformedResponse(let message): "the OM sent an answer that is not an OMResponse: \(message)"
    }
  }

  /// The OM status, when the OM refused the call.
  public var status: Status? {
    if case .refused(let status, _) = self { return status }
    return nil
  }
}
