import NIOCore
import NIOPosix
import Synchronization

/// An O3RPC client: one TCP connection that carries any number of concurrent calls.
///
/// Calls may be started from any thread. Started on the connection's event loop (for example
/// from another call's callback) they cost no thread hop at all; that is the hot path.
/// A client does not reconnect: once `isActive` is false every call fails with
/// `RPCError.connectionClosed` and the owner connects anew.
public final class RPCClient: Sendable {
  private let channel: any Channel
  private let connection: NIOLoopBound<RPCClientConnection>

  private init(channel: any Channel, connection: NIOLoopBound<RPCClientConnection>) {
    self.channel = channel
    self.connection = connection
  }

  /// Connects to `host:port`.
  ///
  /// - Throws: `RPCError.connectFailed` with the address and the reason in a few words when no
  ///   connection could be made within `connectTimeout`.
  public static func connect(
    host: String, port: Int, limits: RPCLimits = .init(), group: any EventLoopGroup,
    connectTimeout: TimeAmount = .seconds(5)
  ) async throws -> RPCClient {
    limits.validate()
    // The initializer runs on the channel's event loop, the only place the handler may be
    // wrapped for use from other threads; the box carries the wrapper out. It runs once per
    // connection attempt (a name may resolve to several addresses), hence one entry per channel.
    let connectionBox = ConnectionBox()
    let bootstrap = ClientBootstrap(group: group)
      .connectTimeout(connectTimeout)
      .channelOption(.socketOption(.tcp_nodelay), value: 1)
      .channelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
          let connection = RPCClientConnection(limits: limits)
          try channel.pipeline.syncOperations.addHandler(RPCFrameDecoder.handler(limits: limits))
          try channel.pipeline.syncOperations.addHandler(connection)
          let bound = NIOLoopBound(connection, eventLoop: channel.eventLoop)
          connectionBox.attempts.withLock { $0[ObjectIdentifier(channel)] = bound }
        }
      }
    let channel: any Channel
    do {
      channel = try await bootstrap.connect(host: host, port: port).get()
    } catch {
      throw RPCError.connectFailed(address: "\(host):\(port)", reason: ConnectionFailure.describe(error))
    }
    guard let connection = connectionBox.attempts.withLock({ $0[ObjectIdentifier(channel)] }) else {
      preconditionFailure("the channel initializer ran without installing the connection handler")
    }
    return RPCClient(channel: channel, connection: connection)
  }

  /// Starts a call. The future completes on the connection's event loop with the response, or
  /// fails with an `RPCError`. `deadline` is measured from now; nil waits as long as the
  /// connection lives.
  public func call(method: String, payload: ByteBuffer, deadline: TimeAmount?) -> EventLoopFuture<
    ByteBuffer
  > {
    let eventLoop = connection.eventLoop
    let promise = eventLoop.makePromise(of: ByteBuffer.self)
    let absoluteDeadline = deadline.map { NIODeadline.now() + $0 }
    if eventLoop.inEventLoop {
      connection.value.start(
        method: method, payload: payload, deadline: absoluteDeadline, promise: promise)
    } else {
      let connection = self.connection
      eventLoop.execute {
        connection.value.start(
          method: method, payload: payload, deadline: absoluteDeadline, promise: promise)
      }
    }
    return promise.futureResult
  }

  /// Makes a call from async code; for occasional calls (each one costs a hop into the event
  /// loop and back).
  public func call(method: String, payload: [UInt8], deadline: TimeAmount?) async throws -> [UInt8]
  {
    let response = try await call(
      method: method, payload: ByteBuffer(bytes: payload), deadline: deadline
    ).get()
    return Array(response.readableBytesView)
  }

  /// The event loop the connection runs on; calls started on it skip a thread hop.
  public var eventLoop: any EventLoop {
    connection.eventLoop
  }

  /// True while the connection is open.
  public var isActive: Bool {
    channel.isActive
  }

  /// Closes the connection; outstanding calls fail with `RPCError.connectionClosed`.
  public func close() async {
    try? await channel.close()
    try? await channel.closeFuture.get()
  }
}

/// Carries the loop-bound connection handler of each connection attempt out of the channel
/// initializer.
private final class ConnectionBox: Sendable {
  let attempts = Mutex<[ObjectIdentifier: NIOLoopBound<RPCClientConnection>]>([:])
}
