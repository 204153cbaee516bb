import NIOCore
import NIOPosix
import O3RPC
import O3TestSupport
import Testing

/// The fault-injection proxy itself: it forwards, cuts and heals.
@Suite(.watchdog) struct TCPProxyTests {
  private struct Echo: RPCServiceHandler {
    func handle(method: String, payload: ByteBuffer, context: RPCCallContext, responder: RPCResponder) {
      responder.succeed(payload)
    }
  }

  @Test func forwardsCutsAndHeals() async throws {
    let group = MultiThreadedEventLoopGroup.singleton
    let server = try await RPCServer.start(host: "127.0.0.1", port: 0, handler: Echo(), group: group)
    let proxy = TCPProxy(targetPort: server.localPort)
    let port = try await proxy.start()
    let client = try await RPCClient.connect(host: "127.0.0.1", port: port, group: group)
    #expect(try await client.call(method: "echo", payload: [1, 2, 3], deadline: .seconds(10)) == [1, 2, 3])
    proxy.block()
    await #expect(throws: RPCError.self) { try await client.call(method: "echo", payload: [4], deadline: .seconds(10)) }
    await #expect(throws: RPCError.self) { try await RPCClient.connect(host: "127.0.0.1", port: port, group: group).call(method: "echo", payload: [5], deadline: .seconds(10)) }
    proxy.unblock()
    let again = try await RPCClient.connect(host: "127.0.0.1", port: port, group: group)
    #expect(try await again.call(method: "echo", payload: [6], deadline: .seconds(10)) == [6])
    await again.close()
    await proxy.stop()
    try await server.shutdown()
  }
}
