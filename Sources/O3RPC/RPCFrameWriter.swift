import NIOCore

/// Writes frames on a connection and coalesces their flushes: one flush (one `writev`) per
/// event-loop tick instead of one per frame.
///
/// Frames written while inbound reads are being delivered are flushed at `channelReadComplete`;
/// this is where a server's synchronous replies and a client's follow-up calls (issued from
/// reply callbacks) arrive. Frames written at any other time — answers from other threads, calls
/// from outside the loop — schedule one flush task, which every frame written before it runs
/// shares. Used only on the connection's event loop.
///
/// The state changes and the channel calls are apart: a write or flush can close the channel
/// and make NIO deliver the frames still buffered (`channelRead`) before it returns, so the
/// connection must not be inside a mutating access to its writer while it calls the channel.
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

  /// Writes one frame without flushing it; then call ``frameWritten()``.
  static func write(_ header: RPCFrameHeader, payload: ByteBuffer, context: ChannelHandlerContext) {
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
  }

  /// Inbound frames are being delivered: hold flushes until the batch completes.
  mutating func readBatchStarted() {
    readingBatch = true
  }

  /// Called from `channelReadComplete`; returns the number of frames to flush now.
  mutating func readBatchCompleted() -> Int {
    readingBatch = false
    return takeFlush()
  }

  /// Takes whatever was written for a flush; returns the number of frames to flush now (the
  /// caller flushes the channel when it is more than 0).
  mutating func takeFlush() -> Int {
    flushScheduled = false
    let frames = unflushedFrames
    unflushedFrames = 0
    return frames
  }

  /// Records a frame just written; says whether a flush must be scheduled.
  mutating func frameWritten() -> FlushAction {
    unflushedFrames += 1
    guard !readingBatch, !flushScheduled else { return .none }
    flushScheduled = true
    return .scheduleFlush
  }
}
