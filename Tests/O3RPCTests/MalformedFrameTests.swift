import O3TestSupport
import NIOCore
import NIOPosix
import Testing

@testable import O3RPC

/// Garbage on the wire: the server answers an error when it can name the call, closes when it
/// cannot, and never stops serving.
@Suite(.watchdog, .timeLimit(.minutes(2))) struct MalformedFrameTests {
  private func startServer(_ group: any EventLoopGroup) async throws -> RPCServer {
    let router = RPCRouter(["echo": { payload, _, responder in responder.succeed(payload) }])
    return try await RPCServer.start(host: "127.0.0.1", port: 0, handler: router, group: group)
  }

  /// Waits for the first reply frame on `connection`.
  private func firstReply(_ connection: RawConnection) async throws -> RPCFrameParseResult {
    try await waitUntil("a reply arrived") { !connection.received.frames.isEmpty }
    return connection.received.frames[0]
  }

  @Test func frameTooShortForACallIdClosesTheConnection() async throws {
    try await withEventLoopGroup { group in
      let server = try await startServer(group)
      let connection = try await RawConnection.connect(port: server.localPort, group: group)
      try await connection.send([0, 0, 0, 3, 1, 0, 0])
      try await waitUntil("the server closed the connection") { connection.isClosed }
      #expect(server.statistics.framesMalformed == 1)
      try await server.shutdown()
    }
  }

  @Test func truncatedHeaderGetsAnErrorReplyAndTheConnectionGoesOn() async throws {
    try await withEventLoopGroup { group in
      let server = try await startServer(group)
      let connection = try await RawConnection.connect(port: server.localPort, group: group)
      try await connection.send([0, 0, 0, 9, 1, 0, 0, 0, 0, 0, 0, 0, 42])
      guard case .frame(let header, let message) = try await firstReply(connection) else {
        Issue.record("the reply is not a frame")
        return
      }
      #expect(header.kind == .error)
      #expect(header.callId == 42)
      #expect(header.name == "MALFORMED_REQUEST")
      #expect(message.text.contains("truncated"))
      try await connection.send(
        requestFrameBytes(callId: 43, method: "echo", payload: "still here"))
      try await waitUntil("the echo arrived") { connection.received.frames.count == 2 }
      let expected = RPCFrameHeader(kind: .response, callId: 43, deadlineMilliseconds: 0, name: "")
      #expect(
        connection.received.frames[1] == .frame(expected, payload: ByteBuffer(text: "still here")))
      try await server.shutdown()
    }
  }

  @Test func replyFrameSentToTheServerIsAnsweredMalformed() async throws {
    try await withEventLoopGroup { group in
      let server = try await startServer(group)
      let connection = try await RawConnection.connect(port: server.localPort, group: group)
      let header = RPCFrameHeader(kind: .response, callId: 5, deadlineMilliseconds: 0, name: "")
      let frame = RPCFrame.encode(header, payload: ByteBuffer(), allocator: ByteBufferAllocator())
      try await connection.send(Array(frame.readableBytesView))
      guard case .frame(let reply, _) = try await firstReply(connection) else {
        Issue.record("the reply is not a frame")
        return
      }
      #expect(reply.callId == 5)
      #expect(reply.name == "MALFORMED_REQUEST")
      try await server.shutdown()
    }
  }

  @Test func requestReusingAnOutstandingCallIdIsAnsweredMalformed() async throws {
    try await withEventLoopGroup { group in
      let service = ParkingService()
      let server = try await RPCServer.start(
        host: "127.0.0.1", port: 0, handler: service, group: group)
      let connection = try await RawConnection.connect(port: server.localPort, group: group)
      try await connection.send(requestFrameBytes(callId: 8, method: "park"))
      try await connection.send(requestFrameBytes(callId: 8, method: "park"))
      guard case .frame(let reply, let message) = try await firstReply(connection) else {
        Issue.record("the reply is not a frame")
        return
      }
      #expect(reply.callId == 8)
      #expect(reply.name == "MALFORMED_REQUEST")
      #expect(message.text.contains("already outstanding"))
      #expect(service.parkedCount == 1)
      try await server.shutdown()
    }
  }

  @Test func randomGarbageFramesGetAnErrorOrACloseAndTheServerSurvives() async throws {
    try await withEventLoopGroup { group in
      let server = try await startServer(group)
      var generator = SeededGenerator(seed: 42)
      for round in 0..<40 {
        let connection = try await RawConnection.connect(port: server.localPort, group: group)
        // A correct length field around random bytes: a complete frame the server must judge.
        let body = (0..<Int.random(in: 0...40, using: &generator)).map { _ in
          UInt8.random(in: 0...255, using: &generator)
        }
        let length = UInt32(body.count)
        let lengthBytes = [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: length >> $0) }
        try await connection.send(lengthBytes + body)
        try await waitUntil("round \(round): an error reply or a close") {
          connection.isClosed || !connection.received.frames.isEmpty
        }
        for reply in connection.received.frames {
          guard case .frame(let header, _) = reply, header.kind == .error else {
            Issue.record("round \(round): the server sent \(reply) in answer to garbage")
            continue
          }
        }
        try? await connection.channel.close()
      }
      let client = try await RPCClient.connect(
        host: "127.0.0.1", port: server.localPort, group: group)
      #expect(try await client.call(method: "echo", payload: [1], deadline: nil) == [1])
      await client.close()
      try await server.shutdown()
    }
  }

  @Test func randomByteStreamsNeverStopTheServer() async throws {
    try await withEventLoopGroup { group in
      let server = try await startServer(group)
      var generator = SeededGenerator(seed: 99)
      for _ in 0..<40 {
        let connection = try await RawConnection.connect(port: server.localPort, group: group)
        let bytes = (0..<Int.random(in: 1...200, using: &generator)).map { _ in
          UInt8.random(in: 0...255, using: &generator)
        }
        try? await connection.send(bytes)
        try? await connection.channel.close()
      }
      let client = try await RPCClient.connect(
        host: "127.0.0.1", port: server.localPort, group: group)
      #expect(try await client.call(method: "echo", payload: [2], deadline: nil) == [2])
      await client.close()
      try await server.shutdown()
    }
  }
}
