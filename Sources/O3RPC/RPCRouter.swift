import NIOCore

/// A service handler that dispatches calls to one route per method name.
///
/// A method without a route is answered with UNKNOWN_METHOD. Routes run on the connection's
/// event loop under the same rules as `RPCServiceHandler.handle`.
public struct RPCRouter: RPCServiceHandler {
  /// Handles the calls of one method.
  public typealias Route = @Sendable (ByteBuffer, RPCCallContext, RPCResponder) -> Void

  private var routes: [String: Route]

  public init(_ routes: [String: Route] = [:]) {
    self.routes = routes
  }

  /// Adds or replaces the route for `method`.
  public mutating func register(_ method: String, _ route: @escaping Route) {
    routes[method] = route
  }

  public func handle(
    method: String, payload: ByteBuffer, context: RPCCallContext, responder: RPCResponder
  ) {
    guard let route = routes[method] else {
      responder.fail(.unknownMethod(method))
      return
    }
    route(payload, context, responder)
  }
}
