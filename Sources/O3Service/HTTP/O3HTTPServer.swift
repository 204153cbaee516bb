import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// The HTTP server every O3 server runs (the OM's port 9874; later SCM, datanodes, the S3
/// gateway): a Hummingbird 2 application on HTTP/1.1, bound to a configured address, with the
/// routes its owner gives (see `O3HTTPRoutes.addStandardPages` for `/` and `/prom`).
///
/// It lives as long as its owner wants: `start` returns once it listens (a bind error is thrown
/// from `start`), `shutdown` stops it and closes every open connection; a response still in
/// flight after `Limits.shutdownGracePeriod` (a checkpoint download) is cancelled. Route handlers run on Swift's cooperative pool, so they
/// must not block: file reads go through NIOFileSystem, other blocking work to its own threads.
public final class O3HTTPServer: Sendable {
  /// Bounds on what a client may make the server hold.
  public struct Limits: Sendable {
    /// Open connections; more wait in the listen backlog until one closes.
    public var maxConnections = 64
    /// A request body larger than this is refused with 413 and its connection closed after the
    /// answer (only POST routes use one, e.g. the checkpoint's exclusion list; the bound stops a
    /// client from streaming one forever).
    public var maxRequestBodyBytes = 64 * 1024
    /// A connection that sends nothing for this long, with no response in progress, is closed.
    public var idleTimeout: TimeAmount = .seconds(60)
    /// Connections waiting to be accepted.
    public var backlog = 64
    /// At shutdown, how long responses in flight may take to finish before they are cancelled:
    /// a status page finishes, a checkpoint download (minutes) does not hold the shutdown.
    public var shutdownGracePeriod: Duration = .milliseconds(500)

    public init() {}
  }

  /// The port the server listens on (the one the system chose when asked for port 0).
  public let localPort: Int
  private let services: ServiceGroup
  private let running: Task<Void, Never>

  private init(localPort: Int, services: ServiceGroup, running: Task<Void, Never>) {
    self.localPort = localPort
    self.services = services
    self.running = running
  }

  /// Starts listening on `host:port` (0 picks a free port; see `localPort`).
  ///
  /// - Throws: the bind error when the address cannot be used (for example, the port is taken).
  public static func start(
    host: String, port: Int, routes: O3HTTPRoutes, limits: Limits = Limits(),
    logger: Logger = Logger(label: "o3.http"),
    group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
  ) async throws -> O3HTTPServer {
    precondition(limits.maxConnections > 0 && limits.maxRequestBodyBytes >= 0)
    let (listening, listener) = AsyncThrowingStream<Int, any Error>.makeStream()
    let application = Application(
      router: router(for: routes, limits: limits),
      server: .http1(configuration: HTTP1Channel.Configuration(idleTimeout: limits.idleTimeout)),
      configuration: ApplicationConfiguration(
        address: .hostname(host, port: port), backlog: limits.backlog, reuseAddress: true,
        availableConnectionsDelegate: MaximumAvailableConnections(limits.maxConnections, logger: logger)),
      onServerRunning: { channel in listener.yield(channel.localAddress?.port ?? port) },
      eventLoopGroupProvider: .shared(group), logger: logger)
    var configuration = ServiceGroupConfiguration(services: [application], logger: logger)
    configuration.maximumGracefulShutdownDuration = limits.shutdownGracePeriod
    let services = ServiceGroup(configuration: configuration)
    let running = Task {
      do {
        try await services.run()
        listener.finish()
      } catch {
        listener.finish(throwing: error)
      }
    }
    do {
      var ports = listening.makeAsyncIterator()
      guard let boundPort = try await ports.next() else {
        throw O3HTTPServerError(message: "the server stopped before it listened on \(host):\(port)")
      }
      return O3HTTPServer(localPort: boundPort, services: services, running: running)
    } catch {
      running.cancel()
      await running.value
      throw error
    }
  }

  /// Stops listening and closes every open connection; returns once the server has stopped.
  ///
  /// Hummingbird's graceful shutdown closes idle connections and lets responses in flight
  /// finish; the service group cancels what is left after `shutdownGracePeriod`.
  public func shutdown() async {
    await services.triggerGracefulShutdown()
    await running.value
  }

  private static func router(for routes: O3HTTPRoutes, limits: Limits) -> Router<O3RequestContext> {
    let router = Router(context: O3RequestContext.self, options: .autoGenerateHeadEndpoints)
    // Middleware applies to the routes added after it, and to "no route" answers.
    router.add(middleware: RequestBodyLimitMiddleware(maxRequestBodyBytes: limits.maxRequestBodyBytes))
    router.add(middleware: RouteFallbackMiddleware(allowedMethods: routes.allowedMethods))
    for route in routes.routes {
      for method in route.methods {
        let handler = route.handler
        router.on(RouterPath(route.path), method: method) { request, context in try await handler(request, context) }
      }
    }
    return router
  }
}

/// The server could not start.
public struct O3HTTPServerError: Error, CustomStringConvertible {
  public var message: String
  public var description: String { message }
}
