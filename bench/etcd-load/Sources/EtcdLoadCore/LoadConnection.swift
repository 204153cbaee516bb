import NIOCore
import NIOHPACK
import NIOHTTP2
import NIOPosix

/// One HTTP/2 connection to an etcd member and the tallies of the clients that share it.
final class LoadConnection: @unchecked Sendable {
  // @unchecked: `histogram`, `failed` and `failureSamples` are read and written only on
  // `channel.eventLoop` (every client of this connection runs there); the rest never changes.
  static let failureSamplesMaximum = 5

  let channel: any Channel
  let multiplexer: NIOHTTP2Handler.StreamMultiplexer
  /// The request headers every call on this connection sends.
  let headers: HPACKHeaders
  var histogram = LatencyHistogram()
  var failed = 0
  var failureSamples: [String] = []

  private init(channel: any Channel, multiplexer: NIOHTTP2Handler.StreamMultiplexer, headers: HPACKHeaders) {
    self.channel = channel
    self.multiplexer = multiplexer
    self.headers = headers
  }

  /// etcd's gRPC server sends a PING to estimate bandwidth after most reads of a request, far
  /// above NIO's default guard against PING floods (200 in 30 seconds), which would close the
  /// connection after about 200 calls. The peer is the server being measured, on loopback.
  static let controlFramesPerWindowMaximum = 100_000_000
  /// A large connection window, so responses never wait for a WINDOW_UPDATE.
  static let connectionWindowBytes = 8 << 20

  /// Connects with HTTP/2 by prior knowledge (etcd's client port speaks it without TLS).
  static func open(to endpoint: Endpoint, path: String, group: any EventLoopGroup) throws -> LoadConnection {
    var configuration = NIOHTTP2Handler.ConnectionConfiguration()
    configuration.controlFrameRateLimit.maximumCount = controlFramesPerWindowMaximum
    configuration.targetWindowSize = connectionWindowBytes
    let connectionConfiguration = configuration
    let channel = try ClientBootstrap(group: group)
      .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
      .connectTimeout(.seconds(10))
      .channelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
          _ = try channel.pipeline.syncOperations.configureHTTP2Pipeline(
            mode: .client, connectionConfiguration: connectionConfiguration, streamConfiguration: .init(),
            // etcd never opens streams towards a client; refuse any it might.
            inboundStreamInitializer: { $0.close() })
        }
      }
      .connect(host: endpoint.host, port: endpoint.port).wait()
    let multiplexer = try channel.eventLoop.submit {
      try channel.pipeline.syncOperations.handler(type: NIOHTTP2Handler.self).syncMultiplexer()
    }.wait()
    let headers: HPACKHeaders = [
      ":method": "POST", ":scheme": "http", ":path": path, ":authority": endpoint.description,
      "content-type": "application/grpc", "te": "trailers",
    ]
    return LoadConnection(channel: channel, multiplexer: multiplexer, headers: headers)
  }

  /// Counts a failure, keeping the first few messages. Call on `channel.eventLoop`.
  func recordFailure(_ message: String) {
    failed += 1
    if failureSamples.count < Self.failureSamplesMaximum { failureSamples.append(message) }
  }

  /// This connection's tallies, read on its event loop.
  func tallies() throws -> (histogram: LatencyHistogram, failed: Int, failureSamples: [String]) {
    try channel.eventLoop.submit { (self.histogram, self.failed, self.failureSamples) }.wait()
  }
}
