import NIOCore
import NIOPosix
import O3Common
import O3RPC

/// Calls the admin protocol (`OMAdminProtocol`) of one OM; one short-lived connection per call,
/// as admin calls are rare.
public enum OMAdminClient {
  /// The OM's own view of its role, term, indexes and (on the leader) its followers' progress.
  public static func roles(
    at address: HostAndPort, timeout: Duration = .seconds(5), group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
  ) async throws(OMAdminError) -> OMNodeStatus {
    try await exchange(address, OMAdminProtocol.rolesMethod, payload: [], timeout: timeout, group: group)
  }

  /// Asks the leader at `address` to hand leadership over; returns once the new leader leads.
  public static func transfer(
    at address: HostAndPort, _ request: OMTransferRequest, timeout: Duration = .seconds(60),
    group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
  ) async throws(OMAdminError) -> OMTransferResult {
    try await exchange(
      address, OMAdminProtocol.transferMethod, payload: OMAdminProtocol.encode(request), timeout: timeout, group: group)
  }

  /// The service as the OM's configuration file describes it now (the OM re-reads it).
  public static func configuration(
    at address: HostAndPort, timeout: Duration = .seconds(5), group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
  ) async throws(OMAdminError) -> OMConfigurationReply {
    try await exchange(address, OMAdminProtocol.configurationMethod, payload: [], timeout: timeout, group: group)
  }

  /// One step of adding a new OM, asked of the leader at `address`.
  public static func bootstrap(
    at address: HostAndPort, _ request: OMBootstrapRequest, timeout: Duration = .seconds(30),
    group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
  ) async throws(OMAdminError) -> OMBootstrapProgress {
    try await exchange(
      address, OMAdminProtocol.bootstrapMethod, payload: OMAdminProtocol.encode(request), timeout: timeout, group: group)
  }

  /// Asks the leader at `address` to remove an OM; returns once the removal is committed.
  public static func decommission(
    at address: HostAndPort, _ request: OMDecommissionRequest, timeout: Duration = .seconds(60),
    group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
  ) async throws(OMAdminError) -> OMDecommissionResult {
    try await exchange(
      address, OMAdminProtocol.decommissionMethod, payload: OMAdminProtocol.encode(request), timeout: timeout, group: group)
  }

  /// A listening address as a client dials it: 0.0.0.0 means this machine.
  public static func dialable(_ address: HostAndPort) -> HostAndPort {
    address.host == "0.0.0.0" ? HostAndPort(host: "127.0.0.1", port: address.port) : address
  }

  /// One call whose reply is the protocol's JSON for `Reply`.
  private static func exchange<Reply: Decodable>(
    _ address: HostAndPort, _ method: String, payload: [UInt8], timeout: Duration, group: any EventLoopGroup
  ) async throws(OMAdminError) -> Reply {
    let reply = try await call(address, method, payload: payload, timeout: timeout, group: group)
    return try OMAdminProtocol.decode(Reply.self, from: reply)
  }

  private static func call(
    _ address: HostAndPort, _ method: String, payload: [UInt8], timeout: Duration, group: any EventLoopGroup
  ) async throws(OMAdminError) -> [UInt8] {
    let target = dialable(address)
    let deadline = TimeAmount.nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000)
    let client: RPCClient
    do {
      client = try await RPCClient.connect(host: target.host, port: target.port, group: group, connectTimeout: deadline)
    } catch {
      throw OMAdminError(.unreachable, "\(target): \(ConnectionFailure.describe(error))")
    }
    do {
      let reply = try await client.call(method: method, payload: payload, deadline: deadline)
      await client.close()
      return reply
    } catch {
      await client.close()
      throw adminError(error, address: target, method: method)
    }
  }

  private static func adminError(_ error: any Error, address: HostAndPort, method: String) -> OMAdminError {
    guard let rpcError = error as? RPCError else {
      return OMAdminError(.unreachable, "\(address): \(ConnectionFailure.describe(error))")
    }
    switch rpcError {
    case .remote(let code, let message):
      if code == RPCRemoteError.unknownMethodCode {
        return OMAdminError(.unsupported, "the OM at \(address) does not serve \(method)")
      }
      return OMAdminError(OMAdminError.Code(rawValue: code) ?? .unsupported, message)
    case .deadlineExceeded:
      return OMAdminError(.unreachable, "the OM at \(address) did not answer \(method) in time")
    default:
      return OMAdminError(.unreachable, "\(address): \(rpcError)")
    }
  }
}
