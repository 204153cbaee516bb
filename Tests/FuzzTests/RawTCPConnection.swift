import NIOCore
import NIOPosix
import O3TestSupport
import Synchronization

/// A TCP connection that writes raw bytes and collects whatever comes back, noting whether the
/// server closed it: the fuzzers' view of a port below any protocol.
final class RawTCPConnection: Sendable {
  private let channel: any Channel
  private let collector: Collector

  /// Bytes received and whether the server ended the connection (close or reset).
  final class Collector: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    let state = Mutex<(received: [UInt8], closed: Bool)>(([], false))

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
      let buffer = unwrapInboundIn(data)
      state.withLock { $0.received += buffer.readableBytesView }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
      if case .inputClosed? = event as? ChannelEvent { state.withLock { $0.closed = true } }
      context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
      state.withLock { $0.closed = true }
      context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
      state.withLock { $0.closed = true }
      context.close(promise: nil)
    }
  }

  private init(channel: any Channel, collector: Collector) {
    self.channel = channel
    self.collector = collector
  }

  static func connect(host: String, port: Int, group: any EventLoopGroup = FuzzEventLoops.group)
    async throws -> RawTCPConnection
  {
    let collector = Collector()
    let channel = try await ClientBootstrap(group: group)
      .channelOption(.allowRemoteHalfClosure, value: true)
      .channelInitializer { channel in
        channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(collector) }
      }
      .connect(host: host, port: port).get()
    return RawTCPConnection(channel: channel, collector: collector)
  }

  var received: [UInt8] { collector.state.withLock { $0.received } }
  var closedByServer: Bool { collector.state.withLock { $0.closed } }

  /// Writes `bytes`; a write the server refused by closing is not an error here (the checks
  /// look at what came back).
  func send(_ bytes: [UInt8]) async {
    try? await channel.writeAndFlush(ByteBuffer(bytes: bytes))
  }

  /// Ends our side of the stream: the server sees end of input.
  func finishSending() async {
    try? await channel.close(mode: .output)
  }

  /// Polls until `condition` holds on what arrived or the server closed the connection; false
  /// when the generous deadline passed first (the caller decides whether that is a finding).
  func wait(timeout: Duration = .seconds(30), until condition: ([UInt8]) -> Bool) async -> Bool {
    (try? await waitUntil("a reply or a close", timeout: timeout) { condition(received) || closedByServer }) != nil
  }

  func close() async {
    try? await channel.close()
  }
}
