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
  private let routesAcceptingPost: Set<String>
  private let maxRequestBodyBytes: Int
  private var head: HTTPRequestHead?
  private var body: [UInt8] = []
  private var bodyBytes = 0
  private var refused = false
  /// Set when the connection closes: a route that finishes later has nobody to answer.
  private var inactive = false
  /// Set while a streamed body is being sent: the peer sends nothing then, and must not be
  /// taken for idle.
  private var streaming = false

  init(routes: [String: OMHTTPRoute], routesAcceptingPost: Set<String>, maxRequestBodyBytes: Int) {
    self.routes = routes
    self.routesAcceptingPost = routesAcceptingPost
    self.maxRequestBodyBytes = maxRequestBodyBytes
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    switch unwrapInboundIn(data) {
    case .head(let requestHead):
      head = requestHead
      body = []
      bodyBytes = 0
      refused = false
    case .body(var chunk):
      bodyBytes += chunk.readableBytes
      if bodyBytes > maxRequestBodyBytes && !refused, let head {
        refused = true
        body = []
        write(.text(.payloadTooLarge, "a request body may not exceed \(maxRequestBodyBytes) bytes"), for: head, keepAlive: false, context: context)
      } else if !refused, let head, head.method == .POST {
        body += chunk.readBytes(length: chunk.readableBytes) ?? []
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
      if !streaming { context.close(promise: nil) }
      return
    }
    context.fireUserInboundEventTriggered(event)
  }

  private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
    let parts = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
    var request = OMHTTPRequest(
      method: head.method, path: String(parts[0]), query: parts.count > 1 ? String(parts[1]) : "")
    request.headers = head.headers
    request.remoteAddress = context.channel.remoteAddress
    guard let route = routes[request.path] else {
      write(.text(.notFound, "no page at \(request.path); try / or /prom"), for: head, keepAlive: head.isKeepAlive, context: context)
      return
    }
    let acceptsPost = routesAcceptingPost.contains(request.path)
    guard head.method == .GET || head.method == .HEAD || (acceptsPost && head.method == .POST) else {
      let allowed = acceptsPost ? "GET, HEAD, POST" : "GET, HEAD"
      var refusal = OMHTTPResponse.text(.methodNotAllowed, "\(request.path) answers \(allowed) only")
      refusal.extraHeaders = [("Allow", allowed)]
      write(refusal, for: head, keepAlive: head.isKeepAlive, context: context)
      return
    }
    request.body = body
    body = []
    let complete = request
    let promise = context.eventLoop.makePromise(of: OMHTTPResponse.self)
    promise.completeWithTask { await route(complete) }
    promise.futureResult.assumeIsolated().whenSuccess { response in
      guard !self.inactive else {
        response.streamedBody?.discard()
        return
      }
      self.write(response, for: head, keepAlive: head.isKeepAlive, context: context)
    }
  }

  private func write(_ response: OMHTTPResponse, for request: HTTPRequestHead, keepAlive: Bool, context: ChannelHandlerContext) {
    var headers = HTTPHeaders()
    headers.add(name: "Content-Type", value: response.contentType)
    if response.streamedBody == nil {
      headers.add(name: "Content-Length", value: "\(response.body.count)")
    }
    headers.add(name: "Connection", value: keepAlive ? "keep-alive" : "close")
    for (name, value) in response.extraHeaders { headers.add(name: name, value: value) }
    let head = HTTPResponseHead(version: request.version, status: response.status, headers: headers)
    if let streamed = response.streamedBody {
      guard request.method != .HEAD else {
        streamed.discard()
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        finish(keepAlive: keepAlive, context: context)
        return
      }
      stream(streamed, head: head, keepAlive: keepAlive, context: context)
      return
    }
    context.write(wrapOutboundOut(.head(head)), promise: nil)
    if request.method != .HEAD && !response.body.isEmpty {
      context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: response.body)))), promise: nil)
    }
    finish(keepAlive: keepAlive, context: context)
  }

  private func finish(keepAlive: Bool, context: ChannelHandlerContext) {
    let written = context.writeAndFlush(wrapOutboundOut(.end(nil)))
    if !keepAlive {
      written.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }
  }

  /// Sends the head, then runs the producer off the event loop; each chunk goes through the
  /// channel and the producer waits for it, so at most one chunk is buffered per connection.
  private func stream(_ streamed: OMHTTPStreamedBody, head: HTTPResponseHead, keepAlive: Bool, context: ChannelHandlerContext) {
    streaming = true
    context.writeAndFlush(wrapOutboundOut(.head(head)), promise: nil)
    let channel = context.channel
    let promise = context.eventLoop.makePromise(of: Void.self)
    promise.completeWithTask {
      try await streamed.produce { chunk in
        try await channel.writeAndFlush(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(bytes: chunk)))).get()
      }
    }
    promise.futureResult.assumeIsolated().whenComplete { result in
      self.streaming = false
      switch result {
      case .success:
        self.finish(keepAlive: keepAlive, context: context)
      case .failure:
        // The status is already sent: closing without the final chunk tells the peer the body
        // is incomplete.
        context.close(promise: nil)
      }
    }
  }
}
