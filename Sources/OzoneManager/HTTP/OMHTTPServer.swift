import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// One HTTP request as a route sees it.
public struct OMHTTPRequest: Sendable {
  public var method: HTTPMethod
  /// The path without the query string, e.g. `/prom`.
  public var path: String
  /// What followed `?`, or empty.
  public var query: String
  public var headers: HTTPHeaders = HTTPHeaders()
  /// The request body; only routes that accept POST receive one (bounded by `Limits`).
  public var body: [UInt8] = []
  /// The peer's address, when the connection has one.
  public var remoteAddress: SocketAddress?

  public init(method: HTTPMethod, path: String, query: String) {
    self.method = method
    self.path = path
    self.query = query
  }
}

/// A response body produced while it is sent (chunked transfer encoding), for bodies too large
/// to hold in memory.
public struct OMHTTPStreamedBody: Sendable {
  /// Sends one chunk; returns once the connection has taken it (one chunk in flight at a time).
  public typealias Writer = @Sendable ([UInt8]) async throws -> Void

  /// Writes the body through the writer; a throw aborts the response and closes the connection.
  public var produce: @Sendable (Writer) async throws -> Void
  /// Called instead of `produce` when the body will never be sent (HEAD, or the peer left).
  public var discard: @Sendable () -> Void

  public init(produce: @escaping @Sendable (Writer) async throws -> Void, discard: @escaping @Sendable () -> Void) {
    self.produce = produce
    self.discard = discard
  }
}

/// A complete HTTP response.
public struct OMHTTPResponse: Sendable {
  public var status: HTTPResponseStatus
  public var contentType: String
  public var body: [UInt8]
  public var extraHeaders: [(String, String)] = []
  /// When set, replaces `body`: the response is sent with chunked transfer encoding.
  public var streamedBody: OMHTTPStreamedBody?

  public init(status: HTTPResponseStatus = .ok, contentType: String, body: String) {
    self.status = status
    self.contentType = contentType
    self.body = Array(body.utf8)
  }

  public init(status: HTTPResponseStatus = .ok, contentType: String, streamedBody: OMHTTPStreamedBody) {
    self.status = status
    self.contentType = contentType
    self.body = []
    self.streamedBody = streamedBody
  }

  static func text(_ status: HTTPResponseStatus, _ message: String) -> OMHTTPResponse {
    OMHTTPResponse(status: status, contentType: "text/plain; charset=utf-8", body: message + "\n")
  }
}

/// Answers the requests of one path (GET and HEAD; POST too for routes registered as accepting it).
public typealias OMHTTPRoute = @Sendable (OMHTTPRequest) async -> OMHTTPResponse

/// The OM's HTTP server (Ozone's port 9874): a status page, `/prom`, and later the checkpoint
/// endpoint. Plain SwiftNIO HTTP/1.1; every route answers GET and HEAD, and the routes named in
/// `routesAcceptingPost` also POST (their request body is delivered to them).
public final class OMHTTPServer: Sendable {
  /// Bounds on what a client may make the server hold.
  public struct Limits: Sendable {
    /// Open connections; more are closed on arrival.
    public var maxConnections = 64
    /// A request body larger than this is refused with 413 and its connection closed (only POST
    /// routes read one, e.g. the checkpoint's exclusion list; the bound stops a client from
    /// streaming one forever).
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
    host: String, port: Int, routes: [String: OMHTTPRoute], routesAcceptingPost: Set<String> = [],
    limits: Limits = Limits(),
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
          try pipeline.addHandler(OMHTTPHandler(
            routes: routes, routesAcceptingPost: routesAcceptingPost, maxRequestBodyBytes: limits.maxRequestBodyBytes))
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
