import NIOCore
import NIOPosix
import Synchronization

/// An O3RPC server: listens on a TCP port and serves every connection with one service handler.
public final class RPCServer: Sendable {
  private let listener: any Channel
  private let registry: ConnectionRegistry
  private let counters: RPCServerCounters

  /// The open connections, so that shutdown can close them and `maxConnections` can be enforced.
  private final class ConnectionRegistry: Sendable {
    struct State {
      var channels: [ObjectIdentifier: any Channel] = [:]
      var shuttingDown = false
    }
    let state = Mutex(State())
  }

  private init(
    listener: any Channel, registry: ConnectionRegistry,
    counters: RPCServerCounters
  ) {
    self.listener = listener
    self.registry = registry
    self.counters = counters
  }

  /// Starts listening on `host:port` (port 0 picks a free port; see `localPort`).
  ///
  /// - Throws: `RPCError.bindFailed` naming the address and port when it cannot listen (for
  ///   example because the port is in use).
  public static func start(
    host: String, port: Int, handler: some RPCServiceHandler, limits: RPCLimits = .init(),
    group: any EventLoopGroup
  ) async throws -> RPCServer {
    limits.validate()
    let registry = ConnectionRegistry()
    let counters = RPCServerCounters()
    let service: any RPCServiceHandler = handler
    let bootstrap = ServerBootstrap(group: group)
      .serverChannelOption(.backlog, value: 256)
      .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
      .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
      .childChannelInitializer { channel in
        guard admit(channel, registry: registry, limits: limits, counters: counters) else {
          return channel.close()
        }
        return channel.eventLoop.makeCompletedFuture {
          let pipeline = channel.pipeline.syncOperations
          if let idleTimeout = limits.idleTimeout {
            try pipeline.addHandler(IdleStateHandler(readTimeout: idleTimeout))
          }
          try pipeline.addHandler(RPCFrameDecoder.handler(limits: limits))
          try pipeline.addHandler(
            RPCServerConnection(service: service, limits: limits, counters: counters))
        }
      }
    let listener: any Channel
    do {
      listener = try await bootstrap.bind(host: host, port: port).get()
    } catch {
      throw RPCError.bindFailed("cannot listen for RPC on \(host):\(port): \(error)")
    }
    return RPCServer(listener: listener, registry: registry, counters: counters)
  }

  /// Registers a new connection unless the server is shutting down or full.
  private static func admit(
    _ channel: any Channel, registry: ConnectionRegistry, limits: RPCLimits,
    counters: RPCServerCounters
  ) -> Bool {
    let key = ObjectIdentifier(channel)
    let admitted = registry.state.withLock { registry in
      guard !registry.shuttingDown, registry.channels.count < limits.maxConnections else {
        return false
      }
      registry.channels[key] = channel
      return true
    }
    guard admitted else {
      counters.connectionsRefused.add(1, ordering: .relaxed)
      return false
    }
    counters.connectionsAccepted.add(1, ordering: .relaxed)
    channel.closeFuture.whenComplete { _ in
      _ = registry.state.withLock { $0.channels.removeValue(forKey: key) }
    }
    return true
  }

  /// The port the server listens on (useful after starting on port 0).
  public var localPort: Int {
    listener.localAddress?.port ?? 0
  }

  /// Counters since the server started.
  public var statistics: RPCServerStatistics {
    counters.snapshot
  }

  /// Stops listening and closes every connection; their clients' outstanding calls fail with
  /// `RPCError.connectionClosed`. Answers still to come are dropped.
  public func shutdown() async throws {
    let connections = registry.state.withLock { registry in
      registry.shuttingDown = true
      return Array(registry.channels.values)
    }
    try? await listener.close()
    for connection in connections {
      try? await connection.close()
    }
  }
}
