import HTTPTypes
import Hummingbird

/// Turns the router's "no route" into the answers O3 servers give: 405 with `Allow` for a known
/// path asked with a method it does not answer, 404 naming the standard pages otherwise.
struct RouteFallbackMiddleware: RouterMiddleware {
  typealias Context = O3RequestContext

  /// The `Allow` header of each routed path.
  let allowedMethods: [String: String]

  func handle(
    _ request: Request, context: Context, next: (Request, Context) async throws -> Response
  ) async throws -> Response {
    do {
      return try await next(request, context)
    } catch let error as HTTPError where error.status == .notFound {
      let path = request.uri.path
      var response: Response
      if let allowed = allowedMethods[path] {
        response = .o3Text(.methodNotAllowed, "\(path) answers \(allowed) only")
        response.headers[.allow] = allowed
      } else {
        response = .o3Text(.notFound, "no page at \(path); try / or /prom")
      }
      return request.method == .head ? response.createHeadResponse() : response
    }
  }
}
