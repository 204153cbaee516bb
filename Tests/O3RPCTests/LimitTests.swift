import O3TestSupport
import NIOCore
import NIOPosix
import Testing

@testable import O3RPC

/// The named bounds: outstanding calls on both sides, and frame sizes in both directions.
@Suite(.watchdog, .timeLimit(.minutes(2))) struct LimitTests {
  @Test func clientRefusesCallsBeyondItsOutstandingLimit() async throws {
    try await withEventLoopGroup { group in
      let service = ParkingService()
      let server = try await RPCServer.start(
        host: "127.0.0.1", port: 0, handler: service, group: group)
      var limits = RPCLimits()
      limits.maxOutstandingCallsPerConnection = 4
      let client = try await RPCClient.connect(
        host: "127.0.0.1", port: server.localPort, limits: limits, group: group)
      let held = (0..<4).map { _ in
        client.call(method: "park", payload: ByteBuffer(), deadline: nil)
      }
      await #expect(throws: RPCError.tooManyOutstandingCalls) {
        try await client.call(method: "park", payload: ByteBuffer(), deadline: nil).get()
      }
      // Answering one frees a slot.
      try await waitUntil("the server holds the 4 calls") { service.parkedCount == 4 }
      let parked = service.takeParked()
      parked[0].responder.succeed(bytes: [])
      _ = try await held[0].get()
      let next = client.call(method: "park", payload: ByteBuffer(), deadline: nil)
      try await waitUntil("the server holds the fifth call") { service.parkedCount == 1 }
      for call in parked.dropFirst() + service.takeParked() {
        call.responder.succeed(bytes: [])
      }
      _ = try await next.get()
      await client.close()
      try await server.shutdown()
    }
  }

  @Test func serverAnswersOverloadedBeyondItsOutstandingLimit() async throws {
    try await withEventLoopGroup { group in
      let service = ParkingService()
      var serverLimits = RPCLimits()
      serverLimits.maxOutstandingCallsPerConnection = 4
      let server = try await RPCServer.start(
        host: "127.0.0.1", port: 0, handler: service, limits: serverLimits, group: group)
      let client = try await RPCClient.connect(
        host: "127.0.0.1", port: server.localPort, group: group)
      // Calls started from one thread go out in order: the fifth is the one refused.
      let futures = (0..<5).map { _ in
        client.call(method: "park", payload: ByteBuffer(), deadline: nil)
      }
      do {
        _ = try await futures[4].get()
        Issue.record("the fifth call succeeded")
      } catch let error as RPCError {
        #expect(error.code == "OVERLOADED")
      }
      #expect(server.statistics.callsRefusedAsOverloaded == 1)
      try await waitUntil("the server holds 4 calls") { service.parkedCount == 4 }
      let parked = service.takeParked()
      parked[0].responder.succeed(bytes: [1])
      #expect(Array(try await futures[0].get().readableBytesView) == [1])
      // A slot is free again.
      let sixth = client.call(method: "echo", payload: ByteBuffer(text: "six"), deadline: nil)
      #expect(try await sixth.get().text == "six")
      await client.close()
      try await server.shutdown()
    }
  }

  @Test func clientRefusesARequestLargerThanItsFrameLimit() async throws {
    try await withEventLoopGroup { group in
      let server = try await RPCServer.start(
        host: "127.0.0.1", port: 0, handler: ParkingService(), group: group)
      var limits = RPCLimits()
      limits.maxFrameBytes = 1024
      let client = try await RPCClient.connect(
        host: "127.0.0.1", port: server.localPort, limits: limits, group: group)
      await #expect(throws: RPCError.frameTooLarge(14 + 4 + 2000)) {
        try await client.call(
          method: "echo", payload: [UInt8](repeating: 1, count: 2000), deadline: nil)
      }
      #expect(
        try await client.call(
          method: "echo", payload: [UInt8](repeating: 1, count: 1000), deadline: nil
        ).count == 1000)
      await client.close()
      try await server.shutdown()
    }
  }

  @Test func largePayloadsTravelIntact() async throws {
    try await withEventLoopGroup { group in
      let server = try await RPCServer.start(
        host: "127.0.0.1", port: 0, handler: ParkingService(), group: group)
      let client = try await RPCClient.connect(
        host: "127.0.0.1", port: server.localPort, group: group)
      var generator = SeededGenerator(seed: 7)
      // Above RPCFrameWriter.copyPayloadMaxBytes, so header and payload go out as two buffers.
      let payload = (0..<(3 << 20)).map { _ in UInt8.random(in: 0...255, using: &generator) }
      #expect(try await client.call(method: "echo", payload: payload, deadline: nil) == payload)
      await client.close()
      try await server.shutdown()
    }
  }

  @Test func responseLargerThanTheServersFrameLimitBecomesAnError() async throws {
    try await withEventLoopGroup { group in
      var serverLimits = RPCLimits()
      serverLimits.maxFrameBytes = 1024
      let router = RPCRouter([
        "big": { _, _, responder in responder.succeed(bytes: [UInt8](repeating: 0, count: 4096)) }
      ])
      let server = try await RPCServer.start(
        host: "127.0.0.1", port: 0, handler: router, limits: serverLimits, group: group)
      let client = try await RPCClient.connect(
        host: "127.0.0.1", port: server.localPort, group: group)
      do {
        _ = try await client.call(method: "big", payload: [], deadline: nil)
        Issue.record("an oversized response was delivered")
      } catch let error as RPCError {
        #expect(error.code == "RESPONSE_TOO_LARGE")
      }
      #expect(client.isActive)
      await client.close()
      try await server.shutdown()
    }
  }

  @Test func declaredTwoGibibyteFrameIsRefusedAndTheServerKeepsServing() async throws {
    try await withEventLoopGroup { group in
      let server = try await RPCServer.start(
        host: "127.0.0.1", port: 0, handler: ParkingService(), group: group)
      let bystander = try await RPCClient.connect(
        host: "127.0.0.1", port: server.localPort, group: group)
      let attacker = try await RawConnection.connect(port: server.localPort, group: group)
      // 2 GiB announced, 6 bytes sent: had the server waited for (or reserved) the frame, the
      // connection would stay open.
      try await attacker.send([0x80, 0, 0, 0, 1, 2, 3, 4, 5, 6])
      try await waitUntil("the server closed the attacking connection") { attacker.isClosed }
      #expect(attacker.received.count == 0)
      #expect(server.statistics.framesRefusedAsTooLarge == 1)
      #expect(try await bystander.call(method: "echo", payload: [9], deadline: nil) == [9])
      let newcomer = try await RPCClient.connect(
        host: "127.0.0.1", port: server.localPort, group: group)
      #expect(try await newcomer.call(method: "echo", payload: [8], deadline: nil) == [8])
      await bystander.close()
      await newcomer.close()
      try await server.shutdown()
    }
  }

  @Test func frameJustOverAConfiguredLimitIsRefusedFromItsLengthAlone() async throws {
    try await withEventLoopGroup { group in
      var limits = RPCLimits()
      limits.maxFrameBytes = 1024
      let server = try await RPCServer.start(
        host: "127.0.0.1", port: 0, handler: ParkingService(), limits: limits, group: group)
      let attacker = try await RawConnection.connect(port: server.localPort, group: group)
      try await attacker.send([0, 0, 4, 1])  // 1025 bytes announced, none sent
      try await waitUntil("the server closed the connection") { attacker.isClosed }
      #expect(server.statistics.framesRefusedAsTooLarge == 1)
      try await server.shutdown()
    }
  }
}
