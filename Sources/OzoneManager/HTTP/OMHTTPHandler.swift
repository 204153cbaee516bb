import NIOCore
import NIOHTTP1

/// Serves one HTTP connection: collects a request, runs its route, writes the response.
///
/// `HTTPServerPipelineHandler` (installed by `configureHTTPServerPipeline`) hands over one request
/// at a time, so at most one route runs per connection.
final class OMHTTPHandler: ChannelInboundHandler {
  typealias InboundIn = HTTPServerRequestPart
  typealias OutboundOut = HTTPServerResponsePart

  private let routes: [String: OMHTTPRoute]
  private let maxRequestBodyBytes: Int
  private var head: HTTPRequestHead?
  private var bodyBytes = 0
  private var refused = false
  /// Set when the connection closes: a route that finishes later has nobody to answer.
  private var inactive = false

  init(routes: [String: OMHTTPRoute], maxRequestBodyBytes: Int) {
    self.routes = routes
    self.maxRequestBodyBytes = maxRequestBodyBytes
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    switch unwrapInboundIn(data) {
    case .head(let requestHead):
      head = requestHead
      bodyBytes = 0
      refused = false
    case .body(let chunk):
      bodyBytes += chunk.readableBytes
      if bodyBytes > maxRequestBodyBytes && !refused, let head {
        refused = true
        write(.text(.payloadTooLarge, "a request body may not exceed \(maxRequestBodyBytes) bytes"), for: head, keepAlive: false, context: context)
      }
    case .end:
      guard let head, !refused else { return }
      self.head = nil
      respond(to: head, context: context)
    }
  }

  func channelInactive(context: ChannelHandlerContext) {
    inactive = true
    context.fireChannelInactive()
  }

  func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
    if case IdleStateHandler.IdleStateEvent.read = event {
      context.close(promise: nil)
      return
    }
    context.fireUserInboundEventTriggered(event)
  }

  private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
    let parts = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
    let request = OMHTTPRequest(
      method: head.method, path: String(parts[0]), query: parts.count > 1 ? String(parts[1]) : "")
    guard let route = routes[request.path] else {
      write(.text(.notFound, "no page at \(request.path); try / or /prom"), for: head, keepAlive: head.isKeepAlive, context: context)
      return
    }
    guard head.method == .GET || head.method == .HEAD else {
      var refusal = OMHTTPResponse.text(.methodNotAllowed, "\(request.path) answers GET and HEAD only")
      refusal.extraHeaders = [("Allow", "GET, HEAD")]
      write(refusal, for: head, keepAlive: head.isKeepAlive, context: context)
      return
    }
    let promise = context.eventLoop.makePromise(of: OMHTTPResponse.self)
    promise.completeWithTask { await route(request) }
    promise.futureResult.assumeIsolated().whenSuccess { response in
      guard !self.inactive else { return }
      self.write(response, for: head, keepAlive: head.isKeepAlive, context: context)
    }
  }

  private func write(_ response: OMHTTPResponse, for request: HTTPRequestHead, keepAlive: Bool, context: ChannelHandlerContext) {
    var headers = HTTPHeaders()
    headers.add(name: "Content-Type", value: response.contentType)
    headers.add(name: "Content-Length", value: "\(response.body.count)")
    headers.add(name: "Connection", value: keepAlive ? "keep-alive" : "close")
    for (name, value) in response.extraHeaders { headers.add(name: name, value: value) }
    let head = HTTPResponseHead(version: request.version, status: response.status, headers: headers)
    context.write(wrapOutboundOut(.head(head)), promise: nil)
    if request.method != .HEAD && !response.body.isEmpty {
      context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: response.body)))), promise: nil)
    }
    let written = context.writeAndFlush(wrapOutboundOut(.end(nil)))
    if !keepAlive {
      written.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }
  }
}
