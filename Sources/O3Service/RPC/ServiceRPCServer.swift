import NIOCore
import O3Common
import O3RPC

/// Starts a server's O3RPC port: the OM's client port today, SCM's client, block and datanode
/// ports next. A port that cannot be used is reported by the configuration key that set it.
public enum ServiceRPCServer {
  public static func start(
    _ address: HostAndPort, key: String, router: RPCRouter, limits: RPCLimits = RPCLimits(), group: any EventLoopGroup
  ) async throws -> RPCServer {
    do {
      return try await RPCServer.start(host: address.host, port: address.port, handler: router, limits: limits, group: group)
    } catch {
      throw ConfigurationError(key: key, message: "\(error)")
    }
  }
}
