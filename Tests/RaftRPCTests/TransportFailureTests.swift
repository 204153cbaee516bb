import O3TestSupport
import NIOCore
import NIOPosix
import O3RPC
import RaftCore
import RaftProto
import Testing

@testable import RaftRPC

/// What a transport does when peers are down, misconfigured or send garbage.
@Suite(.watchdog, .timeLimit(.minutes(2))) struct TransportFailureTests {
  @Test func downPeerIsReportedOnceAndReachedAfterItStarts() async throws {
    try await withEventLoopGroup { group in
      // A port nobody listens on: below the ephemeral range, so no other test's listener or
      // outgoing connection takes it, and handed out to this test alone.
      let port = try FreePorts.allocate(1)[0]

      let leader = try await TestPeer.start(1, group: group)
      leader.transport.setAddress("127.0.0.1:\(port)", of: 2)
      var number: UInt64 = 0
      try await waitUntil("three connection attempts failed") {
        number += 1
        leader.transport.send([numberedHeartbeat(from: 1, to: 2, number)])
        return leader.transport.statistics[2].connectFailures >= 3
      }
      let whileDown = leader.transport.statistics[2]
      #expect(leader.inbox.unreachableReports == [2])
      #expect(whileDown.unreachableReports == 1)
      #expect(whileDown.messagesDropped[.peerUnreachable, default: 0] > 0)
      #expect(whileDown.connectionsEstablished == 0)

      let follower = try await TestPeer.start(2, port: port, group: group)
      follower.transport.setAddress(leader.address, of: 1)
      try await waitUntil("a heartbeat sent after the follower started arrives") {
        number += 1
        leader.transport.send([numberedHeartbeat(from: 1, to: 2, number)])
        return follower.inbox.count > 0
      }
      try await waitUntil("the leader sees a batch acknowledged") {
        leader.transport.statistics[2].callsAcknowledged > 0
      }
      let received = heartbeatNumbers(follower.inbox.messages)
      #expect(received == received.sorted())
      try await waitUntil("every heartbeat is counted as sent or dropped") {
        let statistics = leader.transport.statistics[2]
        return statistics.messagesDroppedTotal + statistics.messagesSent == Int(number)
      }
      #expect(leader.transport.statistics[2].connectionsEstablished == 1)
      #expect(leader.inbox.unreachableReports == [2])
      await leader.transport.shutdown()
      await follower.transport.shutdown()
    }
  }

  @Test func restartedPeerIsReconnected() async throws {
    try await withEventLoopGroup { group in
      let leader = try await TestPeer.start(1, group: group)
      // Restarted on the same port later: one below the ephemeral range that no one else gets.
      let port = try FreePorts.allocate(1)[0]
      let follower = try await TestPeer.start(2, port: port, group: group)
      connectAll([leader, follower])
      leader.transport.send([numberedHeartbeat(from: 1, to: 2, 1)])
      try await waitUntil("the first heartbeat arrived") { follower.inbox.count == 1 }
      await follower.transport.shutdown()

      var number: UInt64 = 1
      try await waitUntil("messages to the stopped peer are dropped and it is reported") {
        number += 1
        leader.transport.send([numberedHeartbeat(from: 1, to: 2, number)])
        return leader.inbox.unreachableReports == [2]
      }
      let restarted = try await TestPeer.start(2, port: port, group: group)
      restarted.transport.setAddress(leader.address, of: 1)
      try await waitUntil("a heartbeat reaches the restarted peer") {
        number += 1
        leader.transport.send([numberedHeartbeat(from: 1, to: 2, number)])
        return restarted.inbox.count > 0
      }
      let statistics = leader.transport.statistics[2]
      #expect(statistics.reconnects == 1)
      #expect(statistics.messagesDroppedTotal > 0)
      #expect(heartbeatNumbers(restarted.inbox.messages).allSatisfy { $0 > 1 })
      await leader.transport.shutdown()
      await restarted.transport.shutdown()
    }
  }

  @Test func unansweredBatchesTimeOutAndAreCounted() async throws {
    try await withEventLoopGroup { group in
      let silent = HoldingService()
      let server = try await RPCServer.start(
        host: "127.0.0.1", port: 0, handler: silent, group: group)
      var limits = testLimits()
      limits.callTimeout = .milliseconds(50)
      let leader = try await TestPeer.start(1, limits: limits, group: group)
      leader.transport.setAddress("127.0.0.1:\(server.localPort)", of: 2)
      for number: UInt64 in 1...3 {
        leader.transport.send([numberedHeartbeat(from: 1, to: 2, number)])
      }
      try await waitUntil("all three batches timed out") {
        leader.transport.statistics[2].messagesDropped[.timedOut] == 3
      }
      #expect(leader.inbox.unreachableReports == [2])
      let held = try silent.takeHeld().flatMap { try RaftMessageCodec.decodeBatch($0.payload) }
      #expect(heartbeatNumbers(held) == [1, 2, 3])
      await leader.transport.shutdown()
      try await server.shutdown()
    }
  }

  @Test func peerWithoutAddressIsDroppedCountedAndReportedOnce() async throws {
    try await withEventLoopGroup { group in
      let leader = try await TestPeer.start(1, group: group)
      leader.transport.setAddress("no port here", of: 3)
      for number: UInt64 in 1...5 {
        leader.transport.send([
          numberedHeartbeat(from: 1, to: 3, number), numberedHeartbeat(from: 1, to: 4, number),
        ])
      }
      try await waitUntil("all ten messages are counted as dropped") {
        leader.transport.statistics.messagesDropped(.noAddress) == 10
      }
      #expect(leader.inbox.unreachableReports.sorted() == [3, 4])
      await leader.transport.shutdown()
    }
  }

  @Test func movedPeerIsReachedAtItsNewAddress() async throws {
    try await withEventLoopGroup { group in
      let leader = try await TestPeer.start(1, group: group)
      let old = try await TestPeer.start(2, group: group)
      let new = try await TestPeer.start(2, group: group)
      for follower in [old, new] { follower.transport.setAddress(leader.address, of: 1) }
      leader.transport.setAddress(old.address, of: 2)
      leader.transport.send([numberedHeartbeat(from: 1, to: 2, 1)])
      try await waitUntil("the old address received the first heartbeat") {
        old.inbox.count == 1
      }
      leader.transport.setAddress(new.address, of: 2)
      leader.transport.send([numberedHeartbeat(from: 1, to: 2, 2)])
      try await waitUntil("the new address received the second heartbeat") {
        new.inbox.count == 1
      }
      #expect(heartbeatNumbers(new.inbox.messages) == [2])
      #expect(old.inbox.count == 1)
      #expect(leader.transport.statistics[2].connectionsEstablished == 2)
      for peer in [leader, old, new] {
        await peer.transport.shutdown()
      }
    }
  }

  @Test func garbageMisaddressedAndStrangersBatchesGetErrorsAndTheServerKeepsServing() async throws {
    try await withEventLoopGroup { group in
      let follower = try await TestPeer.start(2, group: group)
      let client = try await RPCClient.connect(
        host: "127.0.0.1", port: follower.transport.localPort, group: group)
      func call(_ payload: ByteBuffer) async throws {
        _ = try await client.call(
          method: RaftRPCTransport.method, payload: payload, deadline: .seconds(30)
        ).get()
      }

      let garbage = ByteBuffer(bytes: [0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 1, 2])
      try await expectRemoteError("RAFT_MALFORMED_BATCH") { try await call(garbage) }

      var peerZero = RaftWireBatch()
      peerZero.messages = [RaftMessageCodec.encode(numberedHeartbeat(from: 1, to: 2, 1))]
      peerZero.messages[0].from = 0
      let invalid = ByteBuffer(bytes: RaftMessageCodec.serialize(peerZero))
      try await expectRemoteError("RAFT_INVALID_MESSAGE") { try await call(invalid) }

      let misaddressed = RaftMessageCodec.encodeBatch([numberedHeartbeat(from: 1, to: 3, 1)])
      try await expectRemoteError("RAFT_WRONG_PEER") { try await call(misaddressed) }

      // Peer 1 is not in the follower's address book yet: a stranger, refused.
      let fromStranger = RaftMessageCodec.encodeBatch([numberedHeartbeat(from: 1, to: 2, 6)])
      try await expectRemoteError("RAFT_UNKNOWN_PEER") { try await call(fromStranger) }

      // The follower never sends to peer 1 here: any address admits it.
      follower.transport.setAddress("127.0.0.1:9", of: 1)
      try await call(RaftMessageCodec.encodeBatch([numberedHeartbeat(from: 1, to: 2, 7)]))
      follower.transport.removePeer(1)
      try await expectRemoteError("RAFT_UNKNOWN_PEER") { try await call(fromStranger) }
      #expect(heartbeatNumbers(follower.inbox.messages) == [7])
      let statistics = follower.transport.statistics
      #expect(statistics.batchesRefusedAsMalformed == 2)
      #expect(statistics.batchesRefusedAsMisaddressed == 1)
      #expect(statistics.batchesRefusedFromUnknownPeers == 2)
      #expect(statistics[1].messagesReceived == 1)
      await client.close()
      await follower.transport.shutdown()
    }
  }

  @Test func wrongPeerRefusalIsCountedAsADropBySender() async throws {
    try await withEventLoopGroup { group in
      let leader = try await TestPeer.start(1, group: group)
      let stranger = try await TestPeer.start(5, group: group)
      leader.transport.setAddress(stranger.address, of: 2)
      leader.transport.send([numberedHeartbeat(from: 1, to: 2, 1)])
      // The drop is counted before the unreachable report reaches the inbox: wait for both.
      try await waitUntil("the refusal is counted and reported") {
        leader.transport.statistics[2].messagesDropped[.refusedByPeer] == 1 && !leader.inbox.unreachableReports.isEmpty
      }
      #expect(leader.inbox.unreachableReports == [2])
      #expect(stranger.inbox.count == 0)
      await leader.transport.shutdown()
      await stranger.transport.shutdown()
    }
  }

  @Test func removedPeerAndStoppedTransportCountWhatTheyDrop() async throws {
    try await withEventLoopGroup { group in
      let leader = try await TestPeer.start(1, group: group)
      let follower = try await TestPeer.start(2, group: group)
      connectAll([leader, follower])
      leader.transport.send([numberedHeartbeat(from: 1, to: 2, 1)])
      try await waitUntil("the follower received the heartbeat") { follower.inbox.count == 1 }
      leader.transport.removePeer(2)
      await leader.transport.shutdown()
      leader.transport.send([numberedHeartbeat(from: 1, to: 2, 2)])
      #expect(leader.transport.statistics[2].messagesDropped[.peerRemoved] == 1)
      #expect(leader.transport.localPort == 0)
      await follower.transport.shutdown()
    }
  }

  @Test(arguments: LimitCase.allCases)
  func inconsistentLimitsAreRefusedAtInit(_ limitCase: LimitCase) throws {
    let group = MultiThreadedEventLoopGroup.singleton
    var limits = RaftRPCLimits()
    limitCase.apply(to: &limits)
    let error = #expect(throws: RaftRPCError.self) {
      _ = try RaftRPCTransport(
        localPeer: 1, listenHost: "127.0.0.1", listenPort: 0, group: group, limits: limits)
    }
    #expect(error?.code == .invalidConfiguration)
    #expect(error?.message.contains(limitCase.expectedWords) == true, "\(error?.message ?? "")")
  }

  enum LimitCase: CaseIterable, Sendable {
    case batchOverFrame, batchTooSmall, queueBelowBatch, tooManyOutstanding, backoffInverted

    func apply(to limits: inout RaftRPCLimits) {
      switch self {
      case .batchOverFrame: limits.batchBytesMax = limits.rpc.maxFrameBytes
      case .batchTooSmall: limits.batchBytesMax = 100
      case .queueBelowBatch: limits.queuedBytesPerPeerMax = limits.batchBytesMax - 1
      case .tooManyOutstanding: limits.outstandingCallsPerPeerMax = 5000
      case .backoffInverted: limits.reconnectDelayMax = .milliseconds(1)
      }
    }

    var expectedWords: String {
      switch self {
      case .batchOverFrame: "more than fits an RPC frame"
      case .batchTooSmall: "must be at least 1024"
      case .queueBelowBatch: "queuedBytesPerPeerMax"
      case .tooManyOutstanding: "outstandingCallsPerPeerMax is 5000"
      case .backoffInverted: "reconnectDelayMax"
      }
    }
  }
}

/// Runs `body`, which must fail with an O3RPC error reply carrying `code`.
func expectRemoteError(
  _ code: String, sourceLocation: SourceLocation = #_sourceLocation,
  _ body: () async throws -> Void
) async throws {
  do {
    try await body()
    Issue.record("expected the error \(code), the call succeeded", sourceLocation: sourceLocation)
  } catch RPCError.remote(let actual, let message) {
    #expect(actual == code, "\(message)", sourceLocation: sourceLocation)
    #expect(!message.isEmpty, sourceLocation: sourceLocation)
  }
}
