import NIOCore
import NIOHTTP1
import NIOPosix

/// One HTTP/1.1 exchange with a server on this machine, for tests: a fresh connection per
/// request (`Connection: close`), so no test reuses a connection another test's server closed,
/// and the whole answer collected in memory (test bodies are small: a status page, a metrics
/// page, a test checkpoint of a few MB). Runs on NIO's event loops; awaiting it holds no thread.
public enum HTTPTestClient {
  /// One answer: status, headers (names lowercased; repeated ones joined with ", "), body.
  public struct Reply: Sendable {
    public var status: Int
    public var headers: [String: String]
    public var body: [UInt8]

    public var text: String { String(decoding: body, as: UTF8.self) }
  }

  /// Why an exchange failed.
  public struct Failure: Error, CustomStringConvertible {
    public var description: String
  }

  /// Sends `method path` to `host:port` and waits for the whole answer; throws if the server
  /// closes without answering or nothing moves for `idleTimeout`.
  public static func request(
    port: Int, path: String, method: String = "GET", headers: [String: String] = [:], body: [UInt8]? = nil,
    host: String = "127.0.0.1", idleTimeout: TimeAmount = .seconds(120)
  ) async throws -> Reply {
    let group = MultiThreadedEventLoopGroup.singleton
    let promise = group.next().makePromise(of: Reply.self)
    let connecting = ClientBootstrap(group: group)
      .connectTimeout(.seconds(30))
      .channelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
          try channel.pipeline.syncOperations.addHTTPClientHandlers()
          try channel.pipeline.syncOperations.addHandlers([
            IdleStateHandler(readTimeout: idleTimeout), ReplyCollector(promise: promise),
          ])
        }
      }
      .connect(host: host, port: port)
    let channel: any Channel
    do {
      channel = try await connecting.get()
    } catch {
      promise.fail(error)
      throw error
    }
    var head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: method), uri: path)
    head.headers.add(name: "Host", value: "\(host):\(port)")
    head.headers.add(name: "Connection", value: "close")
    for (name, value) in headers { head.headers.replaceOrAdd(name: name, value: value) }
    if let body { head.headers.replaceOrAdd(name: "Content-Length", value: "\(body.count)") }
    channel.write(HTTPClientRequestPart.head(head), promise: nil)
    if let body { channel.write(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(bytes: body))), promise: nil) }
    channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
    do {
      let reply = try await promise.futureResult.get()
      try? await channel.close()
      return reply
    } catch {
      try? await channel.close()
      throw error
    }
  }
}

/// Collects one response and completes the promise at its end, or fails it when the connection
/// closes first or goes idle.
private final class ReplyCollector: ChannelInboundHandler, RemovableChannelHandler {
  typealias InboundIn = HTTPClientResponsePart

  private let promise: EventLoopPromise<HTTPTestClient.Reply>
  private var reply: HTTPTestClient.Reply?
  private var done = false

  init(promise: EventLoopPromise<HTTPTestClient.Reply>) {
    self.promise = promise
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    switch unwrapInboundIn(data) {
    case .head(let head):
      var headers: [String: String] = [:]
      for (name, value) in head.headers {
        let key = name.lowercased()
        headers[key] = headers[key].map { "\($0), \(value)" } ?? value
      }
      reply = HTTPTestClient.Reply(status: Int(head.status.code), headers: headers, body: [])
    case .body(let buffer):
      reply?.body.append(contentsOf: buffer.readableBytesView)
    case .end:
      finish(.success(reply ?? HTTPTestClient.Reply(status: 0, headers: [:], body: [])))
    }
  }

  func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
    if event is IdleStateHandler.IdleStateEvent {
      finish(.failure(HTTPTestClient.Failure(description: "no answer moved for the idle timeout")))
      context.close(promise: nil)
    }
    context.fireUserInboundEventTriggered(event)
  }

  func errorCaught(context: ChannelHandlerContext, error: any Error) {
    finish(.failure(error))
    context.close(promise: nil)
  }

  func channelInactive(context: ChannelHandlerContext) {
    let what = reply == nil ? "closed the connection without an answer" : "closed the connection mid-answer"
    finish(.failure(HTTPTestClient.Failure(description: "the server \(what)")))
    context.fireChannelInactive()
  }

  private func finish(_ result: Result<HTTPTestClient.Reply, any Error>) {
    guard !done else { return }
    done = true
    promise.completeWith(result)
  }
}
