import O3TestSupport
import NIOCore
import NIOPosix
import Testing

@testable import O3RPC

/// Calls over real TCP on 127.0.0.1: multiplexing, ordering, errors, deadlines.
@Suite(.watchdog, .timeLimit(.minutes(2))) struct CallTests {
  @Test func echoWorksThroughBothClientAPIs() async throws {
    try await withEventLoopGroup { group in
      let server = try await RPCServer.start(
        host: "127.0.0.1", port: 0, handler: ParkingService(), group: group)
      let client = try await RPCClient.connect(
        host: "127.0.0.1", port: server.localPort, group: group)
      let bytes = try await client.call(method: "echo", payload: [1, 2, 3], deadline: .seconds(30))
      #expect(bytes == [1, 2, 3])
      let buffer = try await client.call(
        method: "echo", payload: ByteBuffer(text: "hello"), deadline: nil
      ).get()
      #expect(buffer.text == "hello")
      let empty = try await client.call(method: "echo", payload: [], deadline: nil)
      #expect(empty.isEmpty)
      await client.close()
      try await server.shutdown()
    }
  }

  @Test func twoThousandConcurrentCallsAnsweredInShuffledOrderFromAnotherThreadGetTheirOwnAnswers()
    async throws
  {
    let callCount = 2000
    try await withEventLoopGroup { group in
      let service = ParkingService()
      let server = try await RPCServer.start(
        host: "127.0.0.1", port: 0, handler: service, group: group)
      let client = try await RPCClient.connect(
        host: "127.0.0.1", port: server.localPort, group: group)
      let futures = (0..<callCount).map { index in
        client.call(method: "work", payload: ByteBuffer(text: "call \(index)"), deadline: nil)
      }
      try await waitUntil("the server holds all \(callCount) calls") {
        service.parkedCount == callCount
      }
      // Every call is outstanding at once; answers come from a task (not the event loop), in a
      // seeded random order.
      let answering = Task.detached {
        var generator = SeededGenerator(seed: 2026)
        for call in service.takeParked().shuffled(using: &generator) {
          call.responder.succeed(ByteBuffer(text: "answer to \(call.payload.text)"))
        }
      }
      await answering.value
      for (index, future) in futures.enumerated() {
        #expect(try await future.get().text == "answer to call \(index)")
      }
      try await waitUntil("the server counted \(callCount) replies") {
        server.statistics.repliesWritten == callCount
      }
      await client.close()
      try await server.shutdown()
    }
  }

  @Test func unknownMethodFailsWithRemoteUnknownMethod() async throws {
    try await withEventLoopGroup { group in
      let router = RPCRouter(["echo": { payload, _, responder in responder.succeed(payload) }])
      let server = try await RPCServer.start(
        host: "127.0.0.1", port: 0, handler: router, group: group)
      let client = try await RPCClient.connect(
        host: "127.0.0.1", port: server.localPort, group: group)
      await #expect(
        throws: RPCError.remote(
          code: "UNKNOWN_METHOD", message: "no handler for method \"om.nothing\"")
      ) {
        try await client.call(method: "om.nothing", payload: [], deadline: nil)
      }
      #expect(try await client.call(method: "echo", payload: [7], deadline: nil) == [7])
      await client.close()
      try await server.shutdown()
    }
  }

  @Test func applicationErrorReachesTheCallerWithItsCodeAndMessage() async throws {
    try await withEventLoopGroup { group in
      let router = RPCRouter([
        "om.lookup": { _, _, responder in
          responder.fail(
            RPCRemoteError(code: "KEY_NOT_FOUND", message: "key /vol/bucket/key does not exist"))
        }
      ])
      let server = try await RPCServer.start(
        host: "127.0.0.1", port: 0, handler: router, group: group)
      let client = try await RPCClient.connect(
        host: "127.0.0.1", port: server.localPort, group: group)
      await #expect(
        throws: RPCError.remote(
          code: "KEY_NOT_FOUND", message: "key /vol/bucket/key does not exist")
      ) {
        try await client.call(method: "om.lookup", payload: [], deadline: nil)
      }
      await client.close()
      try await server.shutdown()
    }
  }

  @Test func callWithoutAnAnswerFailsAtItsDeadlineAndTheServerSawTheDeadline() async throws {
    try await withEventLoopGroup { group in
      let service = ParkingService()
      let server = try await RPCServer.start(
        host: "127.0.0.1", port: 0, handler: service, group: group)
      let client = try await RPCClient.connect(
        host: "127.0.0.1", port: server.localPort, group: group)
      await #expect(throws: RPCError.deadlineExceeded) {
        try await client.call(method: "never", payload: [], deadline: .milliseconds(300))
      }
      try await waitUntil("the server holds the call") { service.parkedCount == 1 }
      let parked = try #require(service.takeParked().first)
      let milliseconds = try #require(parked.context.deadlineMilliseconds)
      #expect((1...300).contains(milliseconds))
      #expect(parked.context.deadline != nil)
      // The late answer is dropped and the connection carries on.
      parked.responder.succeed(bytes: [1])
      #expect(try await client.call(method: "echo", payload: [2], deadline: .seconds(30)) == [2])
      #expect(client.isActive)
      await client.close()
      try await server.shutdown()
    }
  }

  @Test func callWithoutDeadlineTellsTheServerNone() async throws {
    try await withEventLoopGroup { group in
      let service = ParkingService()
      let server = try await RPCServer.start(
        host: "127.0.0.1", port: 0, handler: service, group: group)
      let client = try await RPCClient.connect(
        host: "127.0.0.1", port: server.localPort, group: group)
      let future = client.call(method: "park", payload: ByteBuffer(), deadline: nil)
      try await waitUntil("the server holds the call") { service.parkedCount == 1 }
      let parked = try #require(service.takeParked().first)
      #expect(parked.context.deadlineMilliseconds == nil)
      #expect(parked.context.deadline == nil)
      #expect(parked.context.remoteAddress?.port != nil)
      parked.responder.succeed(bytes: [3])
      #expect(Array(try await future.get().readableBytesView) == [3])
      await client.close()
      try await server.shutdown()
    }
  }

  @Test func onlyTheFirstAnswerToACallCounts() async throws {
    try await withEventLoopGroup { group in
      let router = RPCRouter([
        "twice": { _, _, responder in
          responder.succeed(bytes: [1])
          responder.fail(RPCRemoteError(code: "LATE", message: "second answer"))
        }
      ])
      let server = try await RPCServer.start(
        host: "127.0.0.1", port: 0, handler: router, group: group)
      let client = try await RPCClient.connect(
        host: "127.0.0.1", port: server.localPort, group: group)
      #expect(try await client.call(method: "twice", payload: [], deadline: nil) == [1])
      #expect(try await client.call(method: "twice", payload: [], deadline: nil) == [1])
      // Two calls, two replies: the second answers were dropped.
      try await waitUntil("the server counted 2 replies") { server.statistics.repliesWritten == 2 }
      #expect(server.statistics.repliesWritten == 2)
      await client.close()
      try await server.shutdown()
    }
  }
}
