import NIOCore

/// Writes frames on a connection and coalesces their flushes: one flush (one `writev`) per
/// event-loop tick instead of one per frame.
///
/// Frames written while inbound reads are being delivered are flushed at `channelReadComplete`;
/// this is where a server's synchronous replies and a client's follow-up calls (issued from
/// reply callbacks) arrive. Frames written at any other time — answers from other threads, calls
/// from outside the loop — schedule one flush task, which every frame written before it runs
/// shares. Used only on the connection's event loop.
struct RPCFrameWriter {
  /// Smaller payloads are copied behind the header into one buffer (one iovec, one allocation);
  /// larger ones are written as a separate buffer so they are never copied.
  static let copyPayloadMaxBytes = 16 << 10

  /// What the caller must do after a write.
  enum FlushAction {
    case none
    /// Schedule `flush(context:)` on the event loop; no flush is scheduled yet.
    case scheduleFlush
  }

  private var unflushedFrames = 0
  private var readingBatch = false
  private var flushScheduled = false

  /// Writes one frame without flushing it.
  mutating func write(
    _ header: RPCFrameHeader, payload: ByteBuffer, context: ChannelHandlerContext
  ) -> FlushAction {
    let allocator = context.channel.allocator
    if payload.readableBytes <= Self.copyPayloadMaxBytes {
      context.write(
        NIOAny(RPCFrame.encode(header, payload: payload, allocator: allocator)), promise: nil)
    } else {
      var headerBuffer = allocator.buffer(
        capacity: RPCFrame.lengthFieldBytes + RPCFrame.fixedHeaderBytes + header.name.utf8.count)
      RPCFrame.writeHeader(header, payloadBytes: payload.readableBytes, into: &headerBuffer)
      context.write(NIOAny(headerBuffer), promise: nil)
      context.write(NIOAny(payload), promise: nil)
    }
    return frameWritten()
  }

  /// Writes an already encoded frame (an error reply) without flushing it.
  mutating func write(encoded frame: ByteBuffer, context: ChannelHandlerContext) -> FlushAction {
    context.write(NIOAny(frame), promise: nil)
    return frameWritten()
  }

  /// Inbound frames are being delivered: hold flushes until the batch completes.
  mutating func readBatchStarted() {
    readingBatch = true
  }

  /// Called from `channelReadComplete`; returns the number of frames flushed.
  mutating func readBatchCompleted(context: ChannelHandlerContext) -> Int {
    readingBatch = false
    return flush(context: context)
  }

  /// Flushes whatever was written; returns the number of frames flushed.
  mutating func flush(context: ChannelHandlerContext) -> Int {
    flushScheduled = false
    let frames = unflushedFrames
    guard frames > 0 else { return 0 }
    unflushedFrames = 0
    context.flush()
    return frames
  }

  private mutating func frameWritten() -> FlushAction {
    unflushedFrames += 1
    guard !readingBatch, !flushScheduled else { return .none }
    flushScheduled = true
    return .scheduleFlush
  }
}
