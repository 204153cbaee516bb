import NIOCore
import NIOPosix
import RaftCore
import Synchronization
import O3TestSupport
import Testing

@testable import RaftRPC

/// Collects what a transport hands to `receive` and `onUnreachable`.
final class Inbox: Sendable {
  private let received = Mutex<[RaftMessage]>([])
  private let unreachable = Mutex<[PeerID]>([])

  func receive(_ messages: [RaftMessage]) {
    received.withLock { $0.append(contentsOf: messages) }
  }

  func reportUnreachable(_ peer: PeerID) {
    unreachable.withLock { $0.append(peer) }
  }

  var messages: [RaftMessage] { received.withLock { $0 } }

  var count: Int { received.withLock { $0.count } }

  var unreachableReports: [PeerID] { unreachable.withLock { $0 } }

  /// The messages received from `peer`, in arrival order.
  func messages(from peer: PeerID) -> [RaftMessage] {
    received.withLock { $0.filter { $0.from == peer } }
  }
}

/// A started transport and the inbox it delivers to.
struct TestPeer: Sendable {
  let transport: RaftRPCTransport
  let inbox: Inbox

  var id: PeerID { transport.localPeer }
  var address: String { "127.0.0.1:\(transport.localPort)" }

  static func start(
    _ id: PeerID, port: Int = 0, limits: RaftRPCLimits = testLimits(),
    group: any EventLoopGroup
  ) async throws -> TestPeer {
    let transport = try RaftRPCTransport(
      localPeer: id, listenHost: "127.0.0.1", listenPort: port, group: group, limits: limits)
    let inbox = Inbox()
    try await transport.start(
      receive: { inbox.receive($0) }, onUnreachable: { inbox.reportUnreachable($0) })
    return TestPeer(transport: transport, inbox: inbox)
  }
}

/// Limits for tests: quick reconnects so that a peer that comes back is found soon.
func testLimits() -> RaftRPCLimits {
  var limits = RaftRPCLimits()
  limits.reconnectDelayMin = .milliseconds(10)
  limits.reconnectDelayMax = .milliseconds(200)
  return limits
}

/// Tells each peer where the others listen.
func connectAll(_ peers: [TestPeer]) {
  for peer in peers {
    for other in peers where other.id != peer.id {
      peer.transport.setAddress(other.address, of: other.id)
    }
  }
}

/// A heartbeat whose `readRound` numbers it, so that order can be checked at the receiver.
func numberedHeartbeat(from: PeerID, to: PeerID, _ number: UInt64) -> RaftMessage {
  RaftMessage(from: from, to: to, term: 1, body: .heartbeat(commit: 0, readRound: number))
}

/// The numbers of numbered heartbeats, in order.
func heartbeatNumbers(_ messages: [RaftMessage]) -> [UInt64] {
  messages.compactMap { message in
    guard case .heartbeat(_, let readRound) = message.body else { return nil }
    return readRound
  }
}
