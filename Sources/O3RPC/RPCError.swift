/// Why a call, a connection or a listener failed, as seen by the local side.
///
/// `code` is stable for programs to switch on; `description` is for people.
public enum RPCError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The connection closed (either side, or the network) before the reply arrived.
  case connectionClosed
  /// The call's deadline passed before the reply arrived. The server may still run it.
  case deadlineExceeded
  /// A frame of this many bytes (after the length field) exceeds `RPCLimits.maxFrameBytes`.
  case frameTooLarge(Int)
  /// This connection already has `RPCLimits.maxOutstandingCallsPerConnection` calls outstanding.
  case tooManyOutstandingCalls
  /// The peer sent, or the caller asked to send, something that is not a valid frame.
  case malformedFrame(String)
  /// The server answered the call with an error.
  case remote(code: String, message: String)
  /// No connection could be made to `address` (`host:port`); `reason` is
  /// `ConnectionFailure.describe`'s, e.g. "connection refused".
  case connectFailed(address: String, reason: String)
  /// The server could not listen; the message names the address and port.
  case bindFailed(String)

  /// A short upper-case code; for `.remote` it is the server's code.
  public var code: String {
    switch self {
    case .connectionClosed: "CONNECTION_CLOSED"
    case .deadlineExceeded: "DEADLINE_EXCEEDED"
    case .frameTooLarge: "FRAME_TOO_LARGE"
    case .tooManyOutstandingCalls: "TOO_MANY_OUTSTANDING_CALLS"
    case .malformedFrame: "MALFORMED_FRAME"
    case .remote(let code, _): code
    case .connectFailed: "CONNECT_FAILED"
    case .bindFailed: "BIND_FAILED"
    }
  }

  public var description: String {
    switch self {
    case .connectionClosed:
      "the RPC connection closed before the reply arrived"
    case .deadlineExceeded:
      "the call's deadline passed before the reply arrived"
    case .frameTooLarge(let bytes):
      "a frame of \(bytes) bytes exceeds the configured maximum frame size"
    case .tooManyOutstandingCalls:
      "too many calls are outstanding on this connection; wait for some to finish"
    case .malformedFrame(let reason):
      "malformed RPC frame: \(reason)"
    case .remote(let code, let message):
      "the server answered \(code): \(message)"
    case .connectFailed(let address, let reason):
      "cannot connect to \(address): \(reason)"
    case .bindFailed(let message):
      message
    }
  }
}

/// An error a service handler answers a call with; the client sees it as `RPCError.remote`.
public struct RPCRemoteError: Error, Sendable, Equatable, CustomStringConvertible {
  /// A short upper-case code a program can switch on, e.g. "UNKNOWN_METHOD" or an application
  /// code; cut to 255 bytes of UTF-8 on the wire.
  public var code: String
  /// What a person should know; cut to 4096 bytes of UTF-8 on the wire.
  public var message: String

  public init(code: String, message: String) {
    self.code = code
    self.message = message
  }

  public var description: String { "\(code): \(message)" }

  /// The method has no handler on this server.
  public static let unknownMethodCode = "UNKNOWN_METHOD"
  /// The request frame could not be understood.
  public static let malformedRequestCode = "MALFORMED_REQUEST"
  /// The connection has too many calls outstanding on the server.
  public static let overloadedCode = "OVERLOADED"
  /// The handler's answer does not fit in one frame.
  public static let responseTooLargeCode = "RESPONSE_TOO_LARGE"

  /// The error for a method this server does not serve.
  public static func unknownMethod(_ method: String) -> RPCRemoteError {
    RPCRemoteError(code: unknownMethodCode, message: "no handler for method \"\(method)\"")
  }
}
