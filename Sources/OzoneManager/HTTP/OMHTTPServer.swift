import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// One HTTP request as a route sees it (the body is not kept: every route is a GET).
public struct OMHTTPRequest: Sendable {
  public var method: HTTPMethod
  /// The path without the query string, e.g. `/prom`.
  public var path: String
  /// What followed `?`, or empty.
  public var query: String
}

/// A complete HTTP response.
public struct OMHTTPResponse: Sendable {
  public var status: HTTPResponseStatus
  public var contentType: String
  public var body: [UInt8]
  public var extraHeaders: [(String, String)] = []

  public init(status: HTTPResponseStatus = .ok, contentType: String, body: String) {
    self.status = status
    self.contentType = contentType
    self.body = Array(body.utf8)
  }

  static func text(_ status: HTTPResponseStatus, _ message: String) -> OMHTTPResponse {
    OMHTTPResponse(status: status, contentType: "text/plain; charset=utf-8", body: message + "\n")
  }
}

/// Answers the GET requests of one path.
public typealias OMHTTPRoute = @Sendable (OMHTTPRequest) async -> OMHTTPResponse

/// The OM's HTTP server (Ozone's port 9874): a status page, `/prom`, and later the checkpoint
/// endpoint. Plain SwiftNIO HTTP/1.1; every route answers GET and HEAD.
public final class OMHTTPServer: Sendable {
  /// Bounds on what a client may make the server hold.
  public struct Limits: Sendable {
    /// Open connections; more are closed on arrival.
    public var maxConnections = 64
    /// A request body larger than this is refused with 413 and its connection closed (requests
    /// carry no body; the bound only stops a client from streaming one forever).
    public var maxRequestBodyBytes = 64 * 1024
    /// A connection that sends nothing for this long is closed.
    public var idleTimeout: TimeAmount = .seconds(60)

    public init() {}
  }

  private let listener: any Channel
  private let registry: ConnectionRegistry

  private init(listener: any Channel, registry: ConnectionRegistry) {
    self.listener = listener
    self.registry = registry
  }

  /// Starts listening on `host:port` (0 picks a free port; see `localPort`).
  ///
  /// - Throws: the bind error when the address cannot be used (for example, the port is taken).
  public static func start(
    host: String, port: Int, routes: [String: OMHTTPRoute], limits: Limits = Limits(),
    group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
  ) async throws -> OMHTTPServer {
    let registry = ConnectionRegistry(limit: limits.maxConnections)
    let bootstrap = ServerBootstrap(group: group)
      .serverChannelOption(.backlog, value: 64)
      .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
      .childChannelInitializer { channel in
        guard registry.admit(channel) else { return channel.close() }
        return channel.eventLoop.makeCompletedFuture {
          let pipeline = channel.pipeline.syncOperations
          try pipeline.addHandler(IdleStateHandler(readTimeout: limits.idleTimeout))
          try pipeline.configureHTTPServerPipeline(withErrorHandling: true)
          try pipeline.addHandler(OMHTTPHandler(routes: routes, maxRequestBodyBytes: limits.maxRequestBodyBytes))
        }
      }
    let listener = try await bootstrap.bind(host: host, port: port).get()
    return OMHTTPServer(listener: listener, registry: registry)
  }

  /// The port the server listens on.
  public var localPort: Int { listener.localAddress?.port ?? 0 }

  /// Stops listening and closes every open connection.
  public func shutdown() async {
    let open = registry.state.withLock { state in
      state.shuttingDown = true
      return Array(state.channels.values)
    }
    try? await listener.close()
    for channel in open { try? await channel.close() }
  }
}

/// The open connections, so that shutdown can close them and the limit can be enforced.
private final class ConnectionRegistry: Sendable {
  let state = Mutex<(channels: [ObjectIdentifier: any Channel], shuttingDown: Bool)>(([:], false))
  let limit: Int

  init(limit: Int) {
    precondition(limit > 0)
    self.limit = limit
  }

  func admit(_ channel: any Channel) -> Bool {
    let key = ObjectIdentifier(channel)
    let admitted = state.withLock { state in
      guard !state.shuttingDown, state.channels.count < limit else { return false }
      state.channels[key] = channel
      return true
    }
    if admitted {
      channel.closeFuture.whenComplete { [self] _ in _ = state.withLock { $0.channels.removeValue(forKey: key) } }
    }
    return admitted
  }
}
