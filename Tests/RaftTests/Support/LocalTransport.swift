import Foundation
import Raft
import RaftCore
import Synchronization

/// In-process message delivery between test servers (a test double beside RaftRPC's real one).
/// Each peer's inbound messages are delivered in order on its own queue; a peer that is down or
/// cut off by `isolate` loses what is sent to it. Sending to a peer that is down reports it
/// unreachable to the sender, as RaftRPC does when the connection is refused.
final class LocalNetwork: Sendable {
  private struct Peer {
    var receive: @Sendable ([RaftMessage]) -> Void
    var onUnreachable: @Sendable (PeerID) -> Void
    var queue: DispatchQueue
  }

  private let peers = Mutex<[PeerID: Peer]>([:])
  private let isolated = Mutex<Set<PeerID>>([])
  private let sent = Mutex<[PeerID: Int]>([:])

  func transport(for peer: PeerID) -> LocalTransport { LocalTransport(network: self, local: peer) }

  func register(
    _ peer: PeerID, receive: @escaping @Sendable ([RaftMessage]) -> Void,
    onUnreachable: @escaping @Sendable (PeerID) -> Void
  ) {
    peers.withLock {
      $0[peer] = Peer(receive: receive, onUnreachable: onUnreachable, queue: DispatchQueue(label: "local-net-\(peer)"))
    }
  }

  func unregister(_ peer: PeerID) {
    _ = peers.withLock { $0.removeValue(forKey: peer) }
  }

  /// Cuts a peer off from everyone (both directions) until `heal`.
  func isolate(_ peer: PeerID) { _ = isolated.withLock { $0.insert(peer) } }
  func heal(_ peer: PeerID) { _ = isolated.withLock { $0.remove(peer) } }

  /// Messages `peer`'s runtime has handed to its transport so far (delivered or not).
  func sentCount(from peer: PeerID) -> Int { sent.withLock { $0[peer, default: 0] } }

  func deliver(_ messages: [RaftMessage], from sender: PeerID) {
    sent.withLock { $0[sender, default: 0] += messages.count }
    let cut = isolated.withLock { $0 }
    guard !cut.contains(sender) else { return }
    var byPeer: [PeerID: [RaftMessage]] = [:]
    for message in messages where !cut.contains(message.to) { byPeer[message.to, default: []].append(message) }
    let targets = peers.withLock { $0 }
    for (peer, batch) in byPeer {
      guard let target = targets[peer] else {
        targets[sender]?.onUnreachable(peer)
        continue
      }
      target.queue.async { target.receive(batch) }
    }
  }
}

/// One peer's end of a `LocalNetwork`.
final class LocalTransport: RaftTransport {
  private let network: LocalNetwork
  private let local: PeerID

  init(network: LocalNetwork, local: PeerID) {
    self.network = network
    self.local = local
  }

  func start(
    receive: @escaping @Sendable ([RaftMessage]) -> Void, onUnreachable: @escaping @Sendable (PeerID) -> Void
  ) async throws {
    network.register(local, receive: receive, onUnreachable: onUnreachable)
  }

  func send(_ messages: [RaftMessage]) { network.deliver(messages, from: local) }
  func setAddress(_ address: String, of peer: PeerID) {}
  func removePeer(_ peer: PeerID) {}
  func shutdown() async { network.unregister(local) }
}
