import O3TestSupport
import NIOCore
import NIOPosix
import Testing

@testable import O3RPC

/// Connections that end, refuse or never start: outstanding calls fail at once, not at a deadline.
@Suite(.watchdog, .timeLimit(.minutes(2))) struct ConnectionTests {
  @Test func serverShutdownFailsEveryOutstandingCallWithConnectionClosed() async throws {
    try await withEventLoopGroup { group in
      let service = ParkingService()
      let server = try await RPCServer.start(
        host: "127.0.0.1", port: 0, handler: service, group: group)
      let client = try await RPCClient.connect(
        host: "127.0.0.1", port: server.localPort, group: group)
      // No deadlines: only the closed connection can end these calls.
      let futures = (0..<50).map { _ in
        client.call(method: "park", payload: ByteBuffer(), deadline: nil)
      }
      try await waitUntil("the server holds all 50 calls") { service.parkedCount == 50 }
      try await server.shutdown()
      for future in futures {
        await #expect(throws: RPCError.connectionClosed) { try await future.get() }
      }
      try await waitUntil("the client sees the connection closed") { !client.isActive }
      await #expect(throws: RPCError.connectionClosed) {
        try await client.call(method: "echo", payload: [1], deadline: nil)
      }
      // Answers after the shutdown go nowhere and break nothing.
      for call in service.takeParked() {
        call.responder.succeed(bytes: [1])
      }
    }
  }

  @Test func serverClosingTheConnectionMidCallFailsEveryOutstandingCall() async throws {
    try await withEventLoopGroup { group in
      let server = try await RawServer.start(group: group)
      let client = try await RPCClient.connect(host: "127.0.0.1", port: server.port, group: group)
      let futures = (0..<20).map { index in
        client.call(method: "m", payload: ByteBuffer(text: "call \(index)"), deadline: nil)
      }
      let frameBytes = requestFrameBytes(callId: 1, method: "m", payload: "call 0").count
      // Calls 10...19 have one more digit than 0...9.
      let expectedBytes = 10 * frameBytes + 10 * (frameBytes + 1)
      try await waitUntil("the raw server received all 20 requests") {
        server.received.count == expectedBytes
      }
      for channel in server.acceptedChannels {
        try await channel.close()
      }
      for future in futures {
        await #expect(throws: RPCError.connectionClosed) { try await future.get() }
      }
      await server.close()
    }
  }

  @Test func clientCloseFailsItsOutstandingCalls() async throws {
    try await withEventLoopGroup { group in
      let service = ParkingService()
      let server = try await RPCServer.start(
        host: "127.0.0.1", port: 0, handler: service, group: group)
      let client = try await RPCClient.connect(
        host: "127.0.0.1", port: server.localPort, group: group)
      let future = client.call(method: "park", payload: ByteBuffer(), deadline: nil)
      try await waitUntil("the server holds the call") { service.parkedCount == 1 }
      await client.close()
      await #expect(throws: RPCError.connectionClosed) { try await future.get() }
      #expect(!client.isActive)
      try await server.shutdown()
    }
  }

  @Test func replyDeclaringAnOversizedFrameFailsTheClientsCallsWithFrameTooLarge() async throws {
    try await withEventLoopGroup { group in
      let server = try await RawServer.start(group: group)
      let client = try await RPCClient.connect(host: "127.0.0.1", port: server.port, group: group)
      let future = client.call(method: "m", payload: ByteBuffer(), deadline: nil)
      try await waitUntil("the raw server received the request") { server.received.count > 0 }
      let channel = try #require(server.acceptedChannels.first)
      try await channel.writeAndFlush(ByteBuffer(bytes: [0x40, 0, 0, 0]))  // 1 GiB announced
      await #expect(throws: RPCError.frameTooLarge(1 << 30)) { try await future.get() }
      try await waitUntil("the client closed the connection") { !client.isActive }
      await server.close()
    }
  }

  @Test func connectingByHostNameUsesTheAttemptThatSucceeded() async throws {
    try await withEventLoopGroup { group in
      // "localhost" may resolve to ::1 first, which nothing serves here: only the IPv4 attempt
      // connects, and the client must use that attempt's handler.
      let server = try await RPCServer.start(
        host: "127.0.0.1", port: 0, handler: ParkingService(), group: group)
      let client = try await RPCClient.connect(
        host: "localhost", port: server.localPort, group: group)
      #expect(try await client.call(method: "echo", payload: [4], deadline: nil) == [4])
      await client.close()
      try await server.shutdown()
    }
  }

  @Test func connectingToAPortWithoutServerFailsNamingTheAddress() async throws {
    try await withEventLoopGroup { group in
      // A port nobody listens on: below the ephemeral range, so no other test's listener or
      // outgoing connection takes it, and handed out to this test alone.
      let port = try FreePorts.allocate(1)[0]
      do {
        _ = try await RPCClient.connect(host: "127.0.0.1", port: port, group: group)
        Issue.record("connecting to a closed port succeeded")
      } catch let error as RPCError {
        #expect(error.code == "CONNECT_FAILED")
        #expect(error.description.contains("127.0.0.1:\(port)"))
      }
    }
  }

  @Test func portAlreadyInUseFailsWithAnErrorNamingAddressAndPort() async throws {
    try await withEventLoopGroup { group in
      let first = try await RPCServer.start(
        host: "127.0.0.1", port: 0, handler: ParkingService(), group: group)
      let port = first.localPort
      do {
        let second = try await RPCServer.start(
          host: "127.0.0.1", port: port, handler: ParkingService(), group: group)
        Issue.record("a second server listened on port \(second.localPort)")
        try await second.shutdown()
      } catch let error as RPCError {
        #expect(error.code == "BIND_FAILED")
        #expect(error.description.contains("127.0.0.1:\(port)"))
        #expect(error.description.lowercased().contains("in use"))
      }
      try await first.shutdown()
    }
  }

  @Test func idleConnectionIsClosedByTheServer() async throws {
    try await withEventLoopGroup { group in
      var limits = RPCLimits()
      limits.idleTimeout = .milliseconds(100)
      let server = try await RPCServer.start(
        host: "127.0.0.1", port: 0, handler: ParkingService(), limits: limits, group: group)
      // No call is made: with a 100 ms idle timeout on a loaded machine, the connection may
      // legitimately close before a first call, which would make the test flaky.
      let client = try await RPCClient.connect(
        host: "127.0.0.1", port: server.localPort, group: group)
      try await waitUntil("the server closed the idle connection") { !client.isActive }
      #expect(!client.isActive)
      try await server.shutdown()
    }
  }

  @Test func connectionsBeyondTheLimitAreClosedOnArrival() async throws {
    try await withEventLoopGroup { group in
      var limits = RPCLimits()
      limits.maxConnections = 1
      let server = try await RPCServer.start(
        host: "127.0.0.1", port: 0, handler: ParkingService(), limits: limits, group: group)
      let first = try await RPCClient.connect(
        host: "127.0.0.1", port: server.localPort, group: group)
      #expect(try await first.call(method: "echo", payload: [1], deadline: nil) == [1])
      let second = try await RPCClient.connect(
        host: "127.0.0.1", port: server.localPort, group: group)
      await #expect(throws: RPCError.connectionClosed) {
        try await second.call(method: "echo", payload: [2], deadline: nil)
      }
      #expect(server.statistics.connectionsRefused == 1)
      #expect(try await first.call(method: "echo", payload: [3], deadline: nil) == [3])
      await first.close()
      try await server.shutdown()
    }
  }
}
