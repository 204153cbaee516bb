import OMProto

/// A business error: a status Ozone's clients understand and a message a person can act on.
///
/// Thrown by validation, preExecute and apply; becomes an `OMResponse` with that status. In apply
/// it also discards the transaction's changes: a refused request changes nothing.
public struct OMException: Error, CustomStringConvertible, Sendable {
  public let status: Status
  public let message: String

  public init(_ status: Status, _ message: String) {
    self.status = status
    self.message = message
  }

  public var description: String { "\(status.ozoneName) \(message)" }
}

extension OMResponse {
  /// A response carrying only a status and a message.
  public static func failure(_ cmdType: CommandType, _ error: OMException) -> OMResponse {
    var response = OMResponse()
    response.cmdType = cmdType
    response.status = error.status
    response.message = error.message
    return response
  }

  /// A successful response with the given body.
  static func success(_ cmdType: CommandType, _ body: OMResponse.OneOf_Body?) -> OMResponse {
    var response = OMResponse()
    response.cmdType = cmdType
    response.status = .ok
    response.body = body
    return response
  }
}
