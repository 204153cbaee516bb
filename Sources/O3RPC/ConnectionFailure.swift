import NIOCore
import NIOPosix

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Why a connection could not be made or broke, in the few words a person acts on
/// ("connection refused", "timed out after 5 s"), instead of NIO's nested error values
/// (`Connection errors: SingleConnectionFailure(target: [IPv4]127.0.0.1/…, error: …)`).
///
/// The one place this translation happens: `RPCClient.connect` uses it for
/// `RPCError.connectFailed`, and every place that shows a network error to a user or writes one
/// to a log (`o3 sh`, `o3 admin om`, the failover client's report, the Raft transport's
/// peer-down warnings, the checkpoint download) passes its error through `describe`.
public enum ConnectionFailure {
  /// The reason, without the address: callers name the address themselves, once. An error that
  /// is not a network error keeps its own description.
  public static func describe(_ error: any Error) -> String {
    switch error {
    case let error as RPCError:
      if case .connectFailed(_, let reason) = error { return reason }
      return error.description
    case let error as NIOConnectionError:
      return describe(error)
    case let error as IOError:
      return describe(errno: error.errnoCode)
    case let error as ChannelError:
      return describe(error)
    default:
      return "\(error)"
    }
  }

  /// One reason when every address of the host failed alike (`localhost` is often ::1 and
  /// 127.0.0.1, both refusing), else each address with its own.
  private static func describe(_ error: NIOConnectionError) -> String {
    if error.dnsAError != nil || error.dnsAAAAError != nil { return "cannot resolve host \(error.host)" }
    let failures = error.connectionErrors.map { failure in
      (target: "\(failure.target.ipAddress ?? "?"):\(failure.target.port ?? error.port)", reason: describe(failure.error))
    }
    guard let first = failures.first else { return "host \(error.host) resolves to no address" }
    if failures.allSatisfy({ $0.reason == first.reason }) { return first.reason }
    return failures.map { "\($0.target) \($0.reason)" }.joined(separator: "; ")
  }

  private static func describe(_ error: ChannelError) -> String {
    switch error {
    case .connectTimeout(let amount): "timed out after \(describe(amount))"
    case .eof, .ioOnClosedChannel, .alreadyClosed, .inputClosed, .outputClosed: "the connection closed"
    default: "\(error)"
    }
  }

  /// The errors a connection meets, in our words; others in the C library's, with the number.
  static func describe(errno code: CInt) -> String {
    switch code {
    case ECONNREFUSED: "connection refused"
    case ETIMEDOUT: "timed out"
    case EHOSTUNREACH: "host unreachable"
    case ENETUNREACH: "network unreachable"
    case EHOSTDOWN: "host is down"
    case ENETDOWN: "network is down"
    case ECONNRESET: "connection reset by peer"
    case ECONNABORTED: "connection aborted"
    case EPIPE: "connection closed by peer"
    case EADDRNOTAVAIL: "address not available"
    default: "\(String(cString: strerror(code)).lowercased()) (errno \(code))"
    }
  }

  private static func describe(_ amount: TimeAmount) -> String {
    let milliseconds = amount.nanoseconds / 1_000_000
    return milliseconds % 1000 == 0 ? "\(milliseconds / 1000) s" : "\(milliseconds) ms"
  }
}
