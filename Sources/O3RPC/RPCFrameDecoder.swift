import NIOCore
import NIOExtras

/// The peer declared a frame longer than `RPCLimits.maxFrameBytes`.
struct RPCFrameTooLargeError: Error, Sendable {
  var declaredBytes: Int
  var maxFrameBytes: Int
}

/// Splits the byte stream into frames, refusing any frame longer than the limit.
///
/// NIOExtras' LengthFieldBasedFrameDecoder does the splitting, but its only bound is Int32.max:
/// given a length of 1 GiB it would keep buffering until a gigabyte arrived. This decoder looks
/// at each length field before handing the bytes on, so an oversized frame is refused as soon
/// as its 4 length bytes are in, with nothing of it buffered.
final class RPCFrameDecoder: ByteToMessageDecoder {
  typealias InboundOut = ByteBuffer

  private let lengthFieldDecoder = LengthFieldBasedFrameDecoder(lengthFieldLength: .four)
  private let maxFrameBytes: Int
  /// True once the pending frame's length field has passed the check: the inner decoder is then
  /// waiting for that frame's bytes and the reader index no longer points at a length field.
  private var pendingFrameChecked = false

  init(maxFrameBytes: Int) {
    self.maxFrameBytes = maxFrameBytes
  }

  func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
    if !pendingFrameChecked {
      guard let declared = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else {
        return .needMoreData
      }
      guard Int(declared) <= maxFrameBytes else {
        throw RPCFrameTooLargeError(declaredBytes: Int(declared), maxFrameBytes: maxFrameBytes)
      }
      pendingFrameChecked = true
    }
    let state = try lengthFieldDecoder.decode(context: context, buffer: &buffer)
    if case .continue = state {
      pendingFrameChecked = false
    }
    return state
  }

  /// At end of stream, complete frames are still delivered; a partial last frame is dropped
  /// because nobody is left to answer it.
  func decodeLast(
    context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool
  ) throws -> DecodingState {
    while case .continue = try decode(context: context, buffer: &buffer) {}
    return .needMoreData
  }
}

extension RPCFrameDecoder {
  /// The inbound framing handler for a connection with these limits.
  static func handler(limits: RPCLimits) -> ByteToMessageHandler<RPCFrameDecoder> {
    // The buffer bound is a second line of defence: after decoding, at most one partial frame
    // (length field included) may remain.
    ByteToMessageHandler(
      RPCFrameDecoder(maxFrameBytes: limits.maxFrameBytes),
      maximumBufferSize: RPCFrame.lengthFieldBytes + limits.maxFrameBytes)
  }
}
