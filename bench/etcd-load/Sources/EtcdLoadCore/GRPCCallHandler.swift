import NIOCore
import NIOHPACK
import NIOHTTP2

/// How one gRPC call ended.
public enum GRPCCallResult: Sendable, Equatable {
  case succeeded
  /// The call failed; the text says how (a gRPC status, an HTTP status, a reset stream).
  case failed(String)
}

/// Makes one unary gRPC call on its own HTTP/2 stream: sends the request headers and message when
/// the stream opens, then reads the response until the stream ends and reports the trailers'
/// grpc-status (a trailers-only response carries it in its only HEADERS frame).
final class GRPCCallHandler: ChannelInboundHandler {
  typealias InboundIn = HTTP2Frame.FramePayload
  typealias OutboundOut = HTTP2Frame.FramePayload

  private let headers: HPACKHeaders
  private let message: ByteBuffer
  private var onFinish: ((GRPCCallResult) -> Void)?
  private var httpStatus: String?
  private var grpcStatus: String?
  private var grpcMessage: String?

  init(headers: HPACKHeaders, message: ByteBuffer, onFinish: @escaping (GRPCCallResult) -> Void) {
    self.headers = headers
    self.message = message
    self.onFinish = onFinish
  }

  func channelActive(context: ChannelHandlerContext) {
    context.write(wrapOutboundOut(.headers(.init(headers: headers))), promise: nil)
    context.writeAndFlush(wrapOutboundOut(.data(.init(data: .byteBuffer(message), endStream: true))), promise: nil)
    context.fireChannelActive()
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    switch unwrapInboundIn(data) {
    case .headers(let frame):
      for (name, value, _) in frame.headers {
        switch name {
        case ":status": httpStatus = value
        case "grpc-status": grpcStatus = value
        case "grpc-message": grpcMessage = value
        default: break
        }
      }
      if frame.endStream { finishFromTrailers(context: context) }
    case .data(let frame):
      if frame.endStream { finishFromTrailers(context: context) }
    case .rstStream(let code):
      finish(.failed("stream reset: \(code)"), context: context)
    default:
      break
    }
  }

  func channelInactive(context: ChannelHandlerContext) {
    finish(.failed("the stream closed before the response ended"), context: nil)
    context.fireChannelInactive()
  }

  func errorCaught(context: ChannelHandlerContext, error: any Error) {
    finish(.failed("\(error)"), context: context)
  }

  private func finishFromTrailers(context: ChannelHandlerContext) {
    if httpStatus != "200" {
      finish(.failed("HTTP status \(httpStatus ?? "missing")"), context: context)
    } else if grpcStatus == "0" {
      finish(.succeeded, context: nil)
    } else {
      finish(.failed("grpc-status \(grpcStatus ?? "missing"): \(grpcMessage ?? "")"), context: context)
    }
  }

  /// Reports once; a failed stream is closed so it holds no slot of the connection.
  private func finish(_ result: GRPCCallResult, context: ChannelHandlerContext?) {
    guard let onFinish else { return }
    self.onFinish = nil
    onFinish(result)
    if case .failed = result { context?.close(promise: nil) }
  }
}
