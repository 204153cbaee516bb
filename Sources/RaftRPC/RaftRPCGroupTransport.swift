import Raft
import RaftCore
import Synchronization

/// One group's `RaftTransport` on a shared ``RaftRPCEndpoint``: what a group's `RaftServer` is
/// given. A thin handle: the port and the connections are the endpoint's.
///
/// `start` installs the group's handlers (the endpoint's port is started separately, once);
/// `setAddress` sets the peer's process-wide address and makes it a member of this group (whose
/// messages from it are accepted from then on); `removePeer` takes it out of this group only;
/// `shutdown` unregisters this group only, never stopping the port the others share. Messages the
/// group sends after its shutdown are dropped and counted (`peerRemoved`).
public final class RaftRPCGroupTransport: RaftTransport {
  public let group: RaftGroupID
  private let endpoint: RaftRPCEndpoint
  private let lifecycle = Mutex(Lifecycle.registered)

  private enum Lifecycle {
    /// Made by the endpoint: members may be added; nothing is delivered yet.
    case registered
    case started
    case stopped
  }

  init(group: RaftGroupID, endpoint: RaftRPCEndpoint) {
    self.group = group
    self.endpoint = endpoint
  }

  /// The peer this transport sends from: the endpoint's, the same in every group.
  public var localPeer: PeerID { endpoint.localPeer }

  /// This group's counters (zero once it has shut down).
  public var statistics: RaftRPCGroupStatistics {
    endpoint.statistics[group: group]
  }

  /// Starts delivering the group's inbound messages to `receive`, and failure reports of its
  /// members' links to `onUnreachable`; call once. Never throws: the port is the endpoint's.
  public func start(
    receive: @escaping @Sendable ([RaftMessage]) -> Void,
    onUnreachable: @escaping @Sendable (PeerID) -> Void
  ) async throws {
    let previous = lifecycle.withLock { lifecycle in
      defer { if case .registered = lifecycle { lifecycle = .started } }
      return lifecycle
    }
    guard case .registered = previous else {
      preconditionFailure("the Raft transport of group \(group) was started twice or after shutdown")
    }
    endpoint.startGroup(group, handlers: GroupRegistry.Handlers(receive: receive, onUnreachable: onUnreachable))
  }

  /// Undoes ``start(receive:onUnreachable:)`` after the endpoint failed to bind, so that the
  /// single-group ``RaftRPCTransport`` can be started again as before.
  func abandonStart() {
    lifecycle.withLock { lifecycle in
      if case .started = lifecycle { lifecycle = .registered }
    }
    endpoint.context.withRegistry { $0.stopReceiving(group) }
  }

  /// Hands each peer's messages, in order, to that peer's event loop.
  public func send(_ messages: [RaftMessage]) {
    guard let first = messages.first else { return }
    guard isOpen else {
      for message in messages {
        endpoint.context.counters.recordDrop(message.to, messages: 1, reason: .peerRemoved)
      }
      return
    }
    if messages.allSatisfy({ $0.to == first.to }) {
      endpoint.context.withRegistry { $0.noteSubmitted(group, to: [first.to], messages: messages.count) }
      endpoint.submit(messages, to: first.to, group: group)
      return
    }
    var peers: [PeerID] = []
    var messagesByPeer: [PeerID: [RaftMessage]] = [:]
    for message in messages {
      if messagesByPeer[message.to] == nil {
        peers.append(message.to)
      }
      messagesByPeer[message.to, default: []].append(message)
    }
    endpoint.context.withRegistry { $0.noteSubmitted(group, to: peers, messages: messages.count) }
    for peer in peers {
      endpoint.submit(messagesByPeer[peer]!, to: peer, group: group)
    }
  }

  /// Sets where `peer` listens (`host:port`, IPv6 hosts in brackets; for the whole process) and
  /// accepts this group's messages from it from now on. An address that does not parse is logged
  /// as an error, and messages to the peer are dropped until a valid one is set.
  public func setAddress(_ address: String, of peer: PeerID) {
    endpoint.setAddress(address, of: peer, in: group)
  }

  /// Refuses this group's messages from `peer` from now on; the connection to it closes when no
  /// group lists it any more.
  public func removePeer(_ peer: PeerID) {
    endpoint.removePeer(peer, from: group)
  }

  /// Unregisters the group: its messages are no longer delivered, connections no other group
  /// uses close, and the id may be registered again. The endpoint keeps serving.
  public func shutdown() async {
    let wasOpen = lifecycle.withLock { lifecycle in
      defer { lifecycle = .stopped }
      if case .stopped = lifecycle { return false }
      return true
    }
    guard wasOpen else { return }
    await endpoint.unregister(group)
  }

  private var isOpen: Bool {
    lifecycle.withLock { lifecycle in
      if case .stopped = lifecycle { false } else { true }
    }
  }
}
