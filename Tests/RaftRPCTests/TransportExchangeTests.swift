import O3TestSupport
import NIOCore
import NIOPosix
import O3RPC
import RaftCore
import Synchronization
import Testing

@testable import RaftRPC

/// Real transports on 127.0.0.1 in this process: delivery, order, pipelining, splitting.
@Suite(.watchdog, .timeLimit(.minutes(2))) struct TransportExchangeTests {
  @Test func threePeersExchangeAllToAllInOrder() async throws {
    let sendsPerPeer: UInt64 = 300
    try await withEventLoopGroup { group in
      var peers: [TestPeer] = []
      for id: PeerID in [1, 2, 3] {
        peers.append(try await TestPeer.start(id, group: group))
      }
      connectAll(peers)
      // Each send holds one numbered heartbeat for each other peer, as a Ready would.
      for number in 1...sendsPerPeer {
        for peer in peers {
          peer.transport.send(
            peers.filter { $0.id != peer.id }.map {
              numberedHeartbeat(from: peer.id, to: $0.id, number)
            })
        }
      }
      try await waitUntil("every peer received every heartbeat") {
        peers.allSatisfy { $0.inbox.count == 2 * Int(sendsPerPeer) }
      }
      for receiver in peers {
        for sender in peers where sender.id != receiver.id {
          let numbers = heartbeatNumbers(receiver.inbox.messages(from: sender.id))
          #expect(numbers == Array(1...sendsPerPeer), "from \(sender.id) to \(receiver.id)")
          #expect(receiver.inbox.messages(from: sender.id).allSatisfy { $0.to == receiver.id })
        }
        let statistics = receiver.transport.statistics
        #expect(statistics.peers.values.allSatisfy { $0.messagesDroppedTotal == 0 })
        #expect(receiver.inbox.unreachableReports.isEmpty)
        for sender in peers where sender.id != receiver.id {
          #expect(statistics[sender.id].messagesSent == Int(sendsPerPeer))
          #expect(statistics[sender.id].messagesReceived == Int(sendsPerPeer))
          #expect(statistics[sender.id].connectionsEstablished == 1)
        }
      }
      for peer in peers {
        await peer.transport.shutdown()
      }
    }
  }

  /// The peer is a plain O3RPC server that answers nothing until the test says so: the calls it
  /// holds at once are the calls in flight, with no reply needed to send the next.
  @Test func batchesArePipelinedUpToTheOutstandingBound() async throws {
    let outstandingMax = 16
    let sends = 100
    try await withEventLoopGroup { group in
      let follower = HoldingService()
      let server = try await RPCServer.start(
        host: "127.0.0.1", port: 0, handler: follower, group: group)
      var limits = testLimits()
      limits.outstandingCallsPerPeerMax = outstandingMax
      let leader = try await TestPeer.start(1, limits: limits, group: group)
      leader.transport.setAddress("127.0.0.1:\(server.localPort)", of: 2)
      // Connect first: batches queued while connecting would leave merged into one call.
      leader.transport.send([numberedHeartbeat(from: 1, to: 2, 0)])
      try await waitUntil("the connection carried a first call") { follower.heldCount == 1 }
      for call in follower.takeHeld() { call.responder.succeed(ByteBuffer()) }
      try await waitUntil("the first call is acknowledged") {
        leader.transport.statistics[2].callsAcknowledged == 1
      }
      for number in 1...sends {
        leader.transport.send([numberedHeartbeat(from: 1, to: 2, UInt64(number))])
      }
      try await waitUntil("the follower holds \(outstandingMax) unanswered calls") {
        follower.heldCount == outstandingMax
      }
      try await waitUntil("the leader counted the calls it started") {
        leader.transport.statistics[2].callsSent == 1 + outstandingMax
      }
      var numbers: [UInt64] = []
      while numbers.count < sends {
        for call in follower.takeHeld() {
          numbers += heartbeatNumbers(try RaftMessageCodec.decodeBatch(call.payload))
          call.responder.succeed(ByteBuffer())
        }
        try await waitUntil("more calls arrive or all did") {
          follower.heldCount > 0 || numbers.count == sends
        }
      }
      #expect(numbers == (1...sends).map(UInt64.init))
      let statistics = leader.transport.statistics[2]
      #expect(statistics.outstandingCallsPeak == outstandingMax)
      try await waitUntil("every call is acknowledged") {
        let statistics = leader.transport.statistics[2]
        return statistics.callsAcknowledged == statistics.callsSent
      }
      // The sends that waited behind the full pipeline left merged into fewer calls.
      let final = leader.transport.statistics[2]
      #expect(final.messagesSent == 1 + sends)
      #expect(final.callsSent < 1 + sends)
      #expect(final.messagesDroppedTotal == 0)
      await leader.transport.shutdown()
      try await server.shutdown()
    }
  }

  @Test func appendLargerThanTheLimitArrivesAsChainedParts() async throws {
    try await withEventLoopGroup { group in
      var limits = testLimits()
      limits.batchBytesMax = 4096
      limits.queuedBytesPerPeerMax = 1 << 20
      let leader = try await TestPeer.start(1, limits: limits, group: group)
      let follower = try await TestPeer.start(2, limits: limits, group: group)
      connectAll([leader, follower])
      var generator = RandomRaftMessages(seed: 4)
      let request = generator.append(entryCount: 60, dataBytesMax: 1500)
      leader.transport.send([RaftMessage(from: 1, to: 2, term: 3, body: .append(request))])
      try await waitUntil("every entry arrived") {
        follower.inbox.messages.reduce(0) { total, message in
          guard case .append(let part) = message.body else { return total }
          return total + part.entries.count
        } == 60
      }
      let parts = try appendParts(follower.inbox.messages[...])
      #expect(parts.count > 1)
      try expectChained(parts, reassembling: request)
      #expect(follower.inbox.messages.allSatisfy { $0.term == 3 && $0.from == 1 })
      let statistics = leader.transport.statistics[2]
      #expect(statistics.appendsSplit == 1)
      #expect(statistics.messagesSent == parts.count)
      #expect(statistics.messagesDroppedTotal == 0)
      await leader.transport.shutdown()
      await follower.transport.shutdown()
    }
  }
}

/// An O3RPC service that holds every call unanswered until the test takes it.
final class HoldingService: RPCServiceHandler {
  struct HeldCall: Sendable {
    var payload: ByteBuffer
    var responder: RPCResponder
  }

  private let held = Mutex<[HeldCall]>([])

  func handle(method: String, payload: ByteBuffer, context: RPCCallContext, responder: RPCResponder)
  {
    held.withLock { $0.append(HeldCall(payload: payload, responder: responder)) }
  }

  var heldCount: Int { held.withLock { $0.count } }

  /// Removes and returns every held call, in arrival order.
  func takeHeld() -> [HeldCall] {
    held.withLock { calls in
      defer { calls = [] }
      return calls
    }
  }
}
