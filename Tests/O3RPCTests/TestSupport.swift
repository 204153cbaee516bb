import NIOCore
import NIOPosix
import Synchronization
import O3TestSupport
import Testing

@testable import O3RPC

/// A service for tests: "echo" answers at once; any other method is parked until the test
/// answers it (or never, to test deadlines and dropped connections).
final class ParkingService: RPCServiceHandler {
  struct ParkedCall: Sendable {
    var method: String
    var payload: ByteBuffer
    var context: RPCCallContext
    var responder: RPCResponder
  }

  private let parked = Mutex<[ParkedCall]>([])

  func handle(method: String, payload: ByteBuffer, context: RPCCallContext, responder: RPCResponder)
  {
    if method == "echo" {
      responder.succeed(payload)
    } else {
      parked.withLock {
        $0.append(
          ParkedCall(method: method, payload: payload, context: context, responder: responder))
      }
    }
  }

  var parkedCount: Int { parked.withLock { $0.count } }

  /// Removes and returns every parked call.
  func takeParked() -> [ParkedCall] {
    parked.withLock { calls in
      defer { calls = [] }
      return calls
    }
  }
}

/// SplitMix64: a small seeded generator so that shuffles and garbage are reproducible.
struct SeededGenerator: RandomNumberGenerator {
  private var state: UInt64

  init(seed: UInt64) {
    state = seed
  }

  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

extension ByteBuffer {
  init(text: String) {
    self.init(string: text)
  }

  var text: String {
    String(decoding: readableBytesView, as: UTF8.self)
  }
}

/// Bytes of a complete request frame, as our client would send it.
func requestFrameBytes(callId: UInt64, method: String, payload: String = "") -> [UInt8] {
  let header = RPCFrameHeader(kind: .request, callId: callId, deadlineMilliseconds: 0, name: method)
  let frame = RPCFrame.encode(
    header, payload: ByteBuffer(text: payload), allocator: ByteBufferAllocator())
  return Array(frame.readableBytesView)
}

/// Bytes received on a raw connection, collected on its event loop and read from the test.
final class ReceivedBytes: Sendable {
  private let bytes = Mutex<[UInt8]>([])

  func append(_ buffer: ByteBuffer) {
    bytes.withLock { $0.append(contentsOf: buffer.readableBytesView) }
  }

  var count: Int { bytes.withLock { $0.count } }

  /// The frames received so far, parsed; a trailing partial frame is left out.
  var frames: [RPCFrameParseResult] {
    var buffer = ByteBuffer(bytes: bytes.withLock { $0 })
    var frames: [RPCFrameParseResult] = []
    while let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self),
      buffer.readableBytes >= RPCFrame.lengthFieldBytes + Int(length)
    {
      buffer.moveReaderIndex(forwardBy: RPCFrame.lengthFieldBytes)
      frames.append(RPCFrame.parse(buffer.readSlice(length: Int(length))!))
    }
    return frames
  }
}

/// Collects every inbound byte of a raw channel into a `ReceivedBytes`.
final class CollectingHandler: ChannelInboundHandler {
  typealias InboundIn = ByteBuffer

  private let received: ReceivedBytes

  init(_ received: ReceivedBytes) {
    self.received = received
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    received.append(unwrapInboundIn(data))
  }
}

/// A plain TCP connection that writes whatever bytes a test wants: garbage, lies about lengths.
struct RawConnection: Sendable {
  let channel: any Channel
  let received: ReceivedBytes

  static func connect(port: Int, group: any EventLoopGroup) async throws -> RawConnection {
    let received = ReceivedBytes()
    let channel = try await ClientBootstrap(group: group)
      .channelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
          try channel.pipeline.syncOperations.addHandler(CollectingHandler(received))
        }
      }
      .connect(host: "127.0.0.1", port: port).get()
    return RawConnection(channel: channel, received: received)
  }

  func send(_ bytes: [UInt8]) async throws {
    try await channel.writeAndFlush(ByteBuffer(bytes: bytes))
  }

  var isClosed: Bool { !channel.isActive }
}

/// A plain TCP server for playing a misbehaving RPC server.
struct RawServer: Sendable {
  let listener: any Channel
  let received: ReceivedBytes
  private let accepted: AcceptedChannels

  final class AcceptedChannels: Sendable {
    let channels = Mutex<[any Channel]>([])
  }

  static func start(group: any EventLoopGroup) async throws -> RawServer {
    let received = ReceivedBytes()
    let accepted = AcceptedChannels()
    let listener = try await ServerBootstrap(group: group)
      .childChannelInitializer { channel in
        accepted.channels.withLock { $0.append(channel) }
        return channel.eventLoop.makeCompletedFuture {
          try channel.pipeline.syncOperations.addHandler(CollectingHandler(received))
        }
      }
      .bind(host: "127.0.0.1", port: 0).get()
    return RawServer(listener: listener, received: received, accepted: accepted)
  }

  var port: Int { listener.localAddress!.port! }

  var acceptedChannels: [any Channel] { accepted.channels.withLock { $0 } }

  func close() async {
    for channel in acceptedChannels {
      try? await channel.close()
    }
    try? await listener.close()
  }
}
