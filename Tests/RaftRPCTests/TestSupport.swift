import NIOCore
import NIOPosix
import RaftCore
import Synchronization
import Testing

@testable import RaftRPC

/// Thrown when a poll gives up; the poll has already recorded an issue saying what it awaited.
struct TimedOut: Error {}

/// Runs `body` with a fresh two-thread event loop group, shut down afterwards.
func withEventLoopGroup<Result>(
  _ body: (any EventLoopGroup) async throws -> Result
) async throws -> Result {
  let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
  do {
    let result = try await body(group)
    try await group.shutdownGracefully()
    return result
  } catch {
    try? await group.shutdownGracefully()
    throw error
  }
}

/// Polls `condition` until it holds; records an issue and throws after `timeout`.
/// Polling is the only way to wait for effects on other threads that have no event to await.
func waitUntil(
  _ what: String, timeout: Duration = .seconds(30),
  sourceLocation: SourceLocation = #_sourceLocation,
  _ condition: () async throws -> Bool
) async throws {
  let clock = ContinuousClock()
  let deadline = clock.now + timeout
  while try await !condition() {
    guard clock.now < deadline else {
      Issue.record("timed out waiting until \(what)", sourceLocation: sourceLocation)
      throw TimedOut()
    }
    try await Task.sleep(for: .milliseconds(2))
  }
}

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
