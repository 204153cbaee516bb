import NIOCore
import NIOPosix
import Synchronization

/// A userspace TCP proxy on 127.0.0.1 that a test can cut and restore: the way fault tests
/// partition Raft peers without touching the kernel's network.
final class TCPProxy: Sendable {
  let targetPort: Int
  private let group: any EventLoopGroup
  private let blocked = Atomic<Bool>(false)
  private let connections = Mutex<[any Channel]>([])
  private let listener = Mutex<(any Channel)?>(nil)

  init(targetPort: Int, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
    self.targetPort = targetPort
    self.group = group
  }

  /// Starts listening on a free port; returns it.
  func start() async throws -> Int {
    let channel = try await ServerBootstrap(group: group)
      .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
      .childChannelInitializer { [self] inbound in
        guard !blocked.load(ordering: .acquiring) else { return inbound.close() }
        return connectOutbound(for: inbound)
      }
      .bind(host: "127.0.0.1", port: 0).get()
    listener.withLock { $0 = channel }
    return channel.localAddress!.port!
  }

  private func connectOutbound(for inbound: any Channel) -> EventLoopFuture<Void> {
    ClientBootstrap(group: inbound.eventLoop)
      .channelInitializer { outbound in
        outbound.pipeline.addHandler(PipeHandler(partner: inbound))
      }
      .connect(host: "127.0.0.1", port: targetPort)
      .flatMap { [self] outbound in
        connections.withLock { $0 += [inbound, outbound] }
        // The child channel registers (and starts reading) only once this future completes,
        // so no byte can arrive before its handler is in place.
        return inbound.pipeline.addHandler(PipeHandler(partner: outbound))
      }
  }

  /// Cuts the link: closes every connection through the proxy and refuses new ones.
  func block() {
    blocked.store(true, ordering: .releasing)
    for channel in connections.withLock({ list in defer { list = [] }; return list }) { channel.close(promise: nil) }
  }

  func unblock() { blocked.store(false, ordering: .releasing) }

  func stop() async {
    block()
    try? await listener.withLock { $0 }?.close()
  }
}

/// Forwards what one channel reads to its partner; closes the partner when it closes.
private final class PipeHandler: ChannelInboundHandler, Sendable {
  typealias InboundIn = ByteBuffer

  private let partner: any Channel

  init(partner: any Channel) {
    self.partner = partner
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    partner.writeAndFlush(unwrapInboundIn(data), promise: nil)
  }

  func channelInactive(context: ChannelHandlerContext) {
    partner.close(promise: nil)
    context.fireChannelInactive()
  }

  func errorCaught(context: ChannelHandlerContext, error: any Error) {
    context.close(promise: nil)
  }
}
