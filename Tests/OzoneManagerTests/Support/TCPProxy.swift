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
  /// Bytes the next connection may carry back from the target before it is cut (one-shot).
  private let pendingCut = Mutex<Int?>(nil)
  /// Connections cut by `cutNextResponse(afterBytes:)` so far.
  private let cuts = Atomic<Int>(0)

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
    let cutAfterBytes = pendingCut.withLock { cut in
      defer { cut = nil }
      return cut
    }
    return ClientBootstrap(group: inbound.eventLoop)
      .channelInitializer { [self] outbound in
        outbound.pipeline.addHandler(
          PipeHandler(partner: inbound, cutAfterBytes: cutAfterBytes, onCut: { self.cuts.add(1, ordering: .relaxed) }))
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

  /// The next connection forwards at most `bytes` from the target back to the client, then both
  /// of its sides are closed: a transfer cut halfway. Later connections are not cut.
  func cutNextResponse(afterBytes bytes: Int) {
    pendingCut.withLock { $0 = bytes }
  }

  var cutCount: Int { cuts.load(ordering: .relaxed) }

  func stop() async {
    block()
    try? await listener.withLock { $0 }?.close()
  }
}

/// Forwards what one channel reads to its partner; closes the partner when it closes. With
/// `cutAfterBytes`, closes both once that many bytes have been forwarded, and drops the rest.
private final class PipeHandler: ChannelInboundHandler, Sendable {
  typealias InboundIn = ByteBuffer

  private enum Budget {
    case unlimited
    case remaining(Int)
    case spent
  }

  private let partner: any Channel
  private let budget: Mutex<Budget>
  private let onCut: @Sendable () -> Void

  init(partner: any Channel, cutAfterBytes: Int? = nil, onCut: @escaping @Sendable () -> Void = {}) {
    self.partner = partner
    self.budget = Mutex(cutAfterBytes.map { .remaining($0) } ?? .unlimited)
    self.onCut = onCut
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    var buffer = unwrapInboundIn(data)
    let (forward, cutNow): (Int?, Bool) = budget.withLock { budget in
      switch budget {
      case .unlimited: return (nil, false)
      case .spent: return (0, false)
      case .remaining(let left):
        let taken = min(left, buffer.readableBytes)
        budget = left - taken == 0 ? .spent : .remaining(left - taken)
        return (taken, left - taken == 0)
      }
    }
    if let forward {
      if forward > 0, let slice = buffer.readSlice(length: forward) { partner.writeAndFlush(slice, promise: nil) }
    } else {
      partner.writeAndFlush(buffer, promise: nil)
    }
    guard cutNow else { return }
    onCut()
    partner.close(promise: nil)
    context.close(promise: nil)
  }

  func channelInactive(context: ChannelHandlerContext) {
    partner.close(promise: nil)
    context.fireChannelInactive()
  }

  func errorCaught(context: ChannelHandlerContext, error: any Error) {
    context.close(promise: nil)
  }
}
