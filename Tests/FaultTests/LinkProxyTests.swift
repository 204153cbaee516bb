import NIOCore
import NIOPosix
import O3TestSupport
import Synchronization
import Testing

/// The fault proxy's modes, against an echo server on 127.0.0.1 (no timing is asserted: every
/// wait polls for an effect with a generous deadline).
@Suite(.watchdog) struct LinkProxyTests {
  @Test func openForwardsBothWays() async throws {
    try await withEchoThroughProxy { proxy, client in
      try await client.send("hello")
      try await waitUntil("the echo arrives") { client.received == "hello" }
      #expect(proxy.counters.bytesForwarded == 10)
    }
  }

  @Test func delayedKeepsTheOrderOfEveryChunk() async throws {
    try await withEchoThroughProxy { proxy, client in
      proxy.setMode(.delayed(minimumMilliseconds: 1, jitterMilliseconds: 20))
      let chunks = (0..<40).map { "\($0)," }
      for chunk in chunks { try await client.send(chunk) }
      try await waitUntil("every chunk is echoed") { client.received.count == chunks.joined().count }
      #expect(client.received == chunks.joined())
    }
  }

  @Test func blackholeSwallowsAndHealingClosesTheDamagedConnection() async throws {
    try await withEchoThroughProxy { proxy, client in
      proxy.setMode(.blackhole)
      try await client.send("lost")
      try await waitUntil("the proxy discarded the bytes") { proxy.counters.bytesDiscarded >= 4 }
      #expect(client.isActive, "a blackhole closes nothing")
      proxy.setMode(.open)
      try await waitUntil("the damaged connection is closed") { !client.isActive }
      let fresh = try await EchoClient.connect(port: proxy.port)
      try await fresh.send("again")
      try await waitUntil("a new connection works") { fresh.received == "again" }
      try await fresh.close()
    }
  }

  @Test func refusingClosesEveryConnectionAndEveryNewOne() async throws {
    try await withEchoThroughProxy { proxy, client in
      proxy.setMode(.refusing)
      try await waitUntil("the live connection is closed") { !client.isActive }
      let next = try await EchoClient.connect(port: proxy.port)
      try await waitUntil("a new connection is closed at once") { !next.isActive }
    }
  }

  @Test func lossyAtAThousandPerMilleKillsTheConnectionOnItsFirstChunk() async throws {
    try await withEchoThroughProxy { proxy, client in
      proxy.setMode(.lossy(perMille: 1000))
      try await client.send("doomed")
      try await waitUntil("the connection is killed") { !client.isActive }
      #expect(client.received.isEmpty)
    }
  }

  @Test func aOneWayBlockLeavesTheOtherDirectionOpen() async throws {
    let mesh = ProxyMesh()
    let forward = LinkID(from: "a", to: "b", purpose: "raft")
    let backward = LinkID(from: "b", to: "a", purpose: "raft")
    _ = try await mesh.add(forward, targetPort: 9, seed: 1)
    _ = try await mesh.add(backward, targetPort: 9, seed: 2)
    mesh.block(from: ["a"], to: ["b"], purposes: ["raft"])
    #expect(mesh.proxy(forward)?.mode == .blackhole)
    #expect(mesh.proxy(backward)?.mode == .open)
    mesh.partition([["a"], ["b"]], purposes: ["raft"], mode: .refusing)
    #expect(mesh.faultyLinks.map(\.1) == [.refusing, .refusing])
    mesh.healAll()
    #expect(mesh.faultyLinks.isEmpty)
    await mesh.stop()
  }

  private func withEchoThroughProxy(_ body: (LinkProxy, EchoClient) async throws -> Void) async throws {
    let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
      .childChannelInitializer { channel in
        channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(EchoHandler()) }
      }
      .bind(host: "127.0.0.1", port: 0).get()
    let proxy = LinkProxy(name: "test", targetPort: server.localAddress!.port!, seed: 7)
    let port = try await proxy.start()
    let client = try await EchoClient.connect(port: port)
    do {
      try await body(proxy, client)
    } catch {
      await proxy.stop()
      try? await server.close()
      throw error
    }
    try? await client.close()
    await proxy.stop()
    try await server.close()
  }
}

private final class EchoHandler: ChannelInboundHandler {
  typealias InboundIn = ByteBuffer

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    context.writeAndFlush(data, promise: nil)
  }
}

/// Text received on one connection, appended on its event loop and read by the test.
private final class Collector: Sendable {
  let text = Mutex("")
}

private final class CollectingHandler: ChannelInboundHandler {
  typealias InboundIn = ByteBuffer

  private let collector: Collector

  init(_ collector: Collector) {
    self.collector = collector
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    let chunk = String(buffer: unwrapInboundIn(data))
    collector.text.withLock { $0 += chunk }
  }
}

/// A client that keeps whatever comes back, as text.
private final class EchoClient: Sendable {
  private let channel: any Channel
  private let collector: Collector

  private init(channel: any Channel, collector: Collector) {
    self.channel = channel
    self.collector = collector
  }

  static func connect(port: Int) async throws -> EchoClient {
    let collector = Collector()
    let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
      .channelInitializer { channel in
        channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(CollectingHandler(collector)) }
      }
      .connect(host: "127.0.0.1", port: port).get()
    return EchoClient(channel: channel, collector: collector)
  }

  var received: String { collector.text.withLock { $0 } }

  var isActive: Bool { channel.isActive }

  func send(_ text: String) async throws {
    try await channel.writeAndFlush(ByteBuffer(string: text))
  }

  func close() async throws {
    try await channel.close()
  }
}
