import HTTPTypes
import Hummingbird
import NIOCore

/// Reads the request body into memory before any route sees it, up to a bound: a larger body is
/// refused with 413 and the connection is closed after the answer, so that a client cannot make
/// the server hold one, or read one forever.
///
/// Every request passes through it (GET included, as before the move to Hummingbird); routes
/// then find the whole body in `request.body`.
struct RequestBodyLimitMiddleware: RouterMiddleware {
  typealias Context = O3RequestContext

  let maxRequestBodyBytes: Int

  func handle(
    _ request: Request, context: Context, next: (Request, Context) async throws -> Response
  ) async throws -> Response {
    var request = request
    do {
      _ = try await request.collectBody(upTo: maxRequestBodyBytes)
    } catch is NIOTooManyBytesError {
      // Hummingbird's connection handler closes the connection once the response in flight is
      // written when it sees this event (the same path as a graceful shutdown), instead of
      // reading the rest of the body to reach the next request.
      context.channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
      var refusal = Response.o3Text(.contentTooLarge, "a request body may not exceed \(maxRequestBodyBytes) bytes")
      refusal.headers[.connection] = "close"
      return refusal
    }
    return try await next(request, context)
  }
}
