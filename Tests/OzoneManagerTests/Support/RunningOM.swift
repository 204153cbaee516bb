import Foundation
import NIOCore
import NIOPosix
import O3Common
import O3RPC
import OMMetadata
import OMProto
import OzoneClient
import OzoneManager
import SwiftProtobuf

/// A real single-replica OM on 127.0.0.1, a free port, its own directory and a fixed clock.
final class RunningOM {
  static let maxRequestBytes = 64 * 1024
  static let clockMilliseconds: UInt64 = 1_800_000_000_000

  let directory: TemporaryDirectory
  let server: OzoneManagerServer
  let fatalErrors: FatalErrorRecorder
  let group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton

  private init(directory: TemporaryDirectory, server: OzoneManagerServer, fatalErrors: FatalErrorRecorder) {
    self.directory = directory
    self.server = server
    self.fatalErrors = fatalErrors
  }

  static func start(_ label: String = #function) async throws -> RunningOM {
    let directory = TemporaryDirectory(label)
    let configuration = OzoneConfiguration([
      OzoneConfigKeys.metadataDirs: directory.path,
      OzoneConfigKeys.omAddress: "127.0.0.1:0",
      "ozone.om.ratis.port": "0",
      OzoneConfigKeys.maxRequestBytes: "64KB",
    ])
    let settings = try OzoneManagerServer.Settings(configuration: configuration)
    try await settings.storage.initialize()
    let fatalErrors = FatalErrorRecorder()
    let server = try await OzoneManagerServer.start(
      settings: settings, group: MultiThreadedEventLoopGroup.singleton, clock: { clockMilliseconds },
      onFatalError: fatalErrors.handler)
    return RunningOM(directory: directory, server: server, fatalErrors: fatalErrors)
  }

  var address: HostAndPort { HostAndPort(host: "127.0.0.1", port: server.port) }

  func client() async throws -> OzoneClient {
    try await OzoneClient.connect(to: address, userName: "alice", group: group)
  }

  func rpcClient() async throws -> RPCClient {
    try await RPCClient.connect(host: "127.0.0.1", port: server.port, group: group)
  }

  /// Every row of every table, the applied index included: a refusal before the log changes none.
  func rows() throws -> [TableRow] {
    try server.store.dumpAllTables().map { TableRow(table: $0.table, key: $0.key, value: $0.value) }
  }

  func shutdown() async {
    await server.shutdown()
  }
}

extension RPCClient {
  /// Calls `om.submitRequest` with raw payload bytes and decodes the OMResponse.
  func submitRaw(_ payload: [UInt8]) async throws -> OMResponse {
    let reply = try await call(method: "om.submitRequest", payload: payload, deadline: .seconds(60))
    return try OMResponse(serializedBytes: reply)
  }

  func submit(_ request: OMRequest) async throws -> OMResponse {
    try await submitRaw(try request.serializedBytes())
  }
}

/// A TCP connection that writes raw bytes and reports how the server ended it.
enum RawConnection {
  /// What happened after the bytes were sent.
  struct Outcome {
    /// Every byte the server sent back.
    var received: [UInt8]
    /// True when the server closed the connection; false when the generous deadline closed it.
    var closedByServer: Bool
  }

  /// Sends `bytes` (then shuts down the write side when `halfClose`) and waits until the
  /// connection closes, at most `deadlineSeconds` (a safety net, not a measured time).
  static func send(
    _ bytes: [UInt8], to port: Int, halfClose: Bool, group: any EventLoopGroup, deadlineSeconds: Int64 = 30
  ) async throws -> Outcome {
    let collector = group.next().makePromise(of: Outcome.self)
    let channel = try await ClientBootstrap(group: group)
      .channelOption(.allowRemoteHalfClosure, value: true)
      .channelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
          try channel.pipeline.syncOperations.addHandler(ByteCollector(promise: collector))
        }
      }
      .connect(host: "127.0.0.1", port: port).get()
    let deadline = channel.eventLoop.scheduleTask(in: .seconds(deadlineSeconds)) {
      channel.pipeline.fireUserInboundEventTriggered(ByteCollector.DeadlinePassed())
    }
    try await channel.writeAndFlush(ByteBuffer(bytes: bytes))
    if halfClose {
      try await channel.close(mode: .output)
    }
    let outcome = try await collector.futureResult.get()
    deadline.cancel()
    try? await channel.close()
    return outcome
  }
}

/// Collects inbound bytes until the connection ends or the deadline event arrives.
private final class ByteCollector: ChannelInboundHandler {
  typealias InboundIn = ByteBuffer

  struct DeadlinePassed {}

  private let promise: EventLoopPromise<RawConnection.Outcome>
  private var received: [UInt8] = []
  private var finished = false

  init(promise: EventLoopPromise<RawConnection.Outcome>) {
    self.promise = promise
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    received += Array(unwrapInboundIn(data).readableBytesView)
  }

  func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
    if event is DeadlinePassed {
      finish(closedByServer: false)
      context.close(promise: nil)
    } else if case .inputClosed? = event as? ChannelEvent {
      finish(closedByServer: true)
    } else {
      context.fireUserInboundEventTriggered(event)
    }
  }

  func channelInactive(context: ChannelHandlerContext) {
    finish(closedByServer: true)
    context.fireChannelInactive()
  }

  func errorCaught(context: ChannelHandlerContext, error: Error) {
    // A reset by the server is also the server ending the connection.
    finish(closedByServer: true)
    context.close(promise: nil)
  }

  private func finish(closedByServer: Bool) {
    guard !finished else { return }
    finished = true
    promise.succeed(RawConnection.Outcome(received: received, closedByServer: closedByServer))
  }
}
