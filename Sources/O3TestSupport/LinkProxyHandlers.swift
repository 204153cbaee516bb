import NIOCore

/// Moves what one side of a proxied connection reads to the other side, as its ``LinkProxy``
/// decides: at once, after a delay (in order), not at all, or by killing the connection.
///
/// Both sides of a connection live on one event loop, so the two handlers of a pair call each
/// other directly. Reading pauses while the partner cannot take more bytes or while
/// ``LinkProxy/delayedBytesMax`` bytes wait for their delay, so a stopped target never makes the
/// proxy buffer without bound.
final class ForwardingHandler: ChannelInboundHandler {
  typealias InboundIn = ByteBuffer

  private let link: LinkProxy
  private let partner: any Channel
  /// The handler of the other direction; it reads from `partner`.
  weak var opposite: ForwardingHandler?
  var connection: ProxiedConnection?
  private var channel: (any Channel)?
  private var lastDelivery = NIODeadline.uptimeNanoseconds(0)
  private var delayedBytes = 0

  init(link: LinkProxy, partner: any Channel) {
    self.link = link
    self.partner = partner
  }

  func handlerAdded(context: ChannelHandlerContext) {
    channel = context.channel
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    let buffer = unwrapInboundIn(data)
    switch link.decide(byteCount: buffer.readableBytes) {
    case .forward(let delayMilliseconds) where delayMilliseconds == 0 && delayedBytes == 0:
      partner.write(buffer, promise: nil)
    case .forward(let delayMilliseconds):
      deliverLater(buffer, delayMilliseconds: delayMilliseconds, context: context)
    case .discard:
      connection?.lostBytes.store(true, ordering: .relaxed)
    case .kill:
      connection?.close()
      context.close(promise: nil)
      partner.close(promise: nil)
    }
    updateReading()
  }

  func channelReadComplete(context: ChannelHandlerContext) {
    partner.flush()
  }

  func channelWritabilityChanged(context: ChannelHandlerContext) {
    // This channel's writability limits what the opposite handler may read.
    opposite?.updateReading()
    context.fireChannelWritabilityChanged()
  }

  func channelInactive(context: ChannelHandlerContext) {
    partner.close(promise: nil)
    context.fireChannelInactive()
  }

  func errorCaught(context: ChannelHandlerContext, error: any Error) {
    context.close(promise: nil)
  }

  private func deliverLater(_ buffer: ByteBuffer, delayMilliseconds: Int, context: ChannelHandlerContext) {
    let due = max(NIODeadline.now() + .milliseconds(Int64(delayMilliseconds)), lastDelivery)
    lastDelivery = due
    delayedBytes += buffer.readableBytes
    context.eventLoop.assumeIsolated().scheduleTask(deadline: due) {
      self.delayedBytes -= buffer.readableBytes
      self.partner.writeAndFlush(buffer, promise: nil)
      self.updateReading()
    }
  }

  /// Reads while the partner takes bytes and the delay queue has room.
  func updateReading() {
    guard let channel, channel.isActive else { return }
    let read = partner.isWritable && delayedBytes < LinkProxy.delayedBytesMax
    try? channel.syncOptions?.setOption(.autoRead, value: read)
  }
}

/// Reads and drops everything: a blackholed connection that never reached its target.
final class DiscardingHandler: ChannelInboundHandler {
  typealias InboundIn = ByteBuffer

  private let link: LinkProxy

  init(link: LinkProxy) {
    self.link = link
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    link.noteDiscarded(unwrapInboundIn(data).readableBytes)
  }

  func errorCaught(context: ChannelHandlerContext, error: any Error) {
    context.close(promise: nil)
  }
}
