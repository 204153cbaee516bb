import Logging
import NIOCore
import O3RPC
import Raft
import RaftCore
import Synchronization

/// One process's Raft port: one O3RPC server receiving batches for every group the process hosts,
/// and per remote process one long-lived connection carrying the messages of every group the two
/// share. Each group reaches it through a ``RaftRPCGroupTransport`` of its own (a
/// `RaftTransport`), so a group's `RaftServer` neither knows nor cares that others share the port.
///
/// Why one port and one connection per process rather than per group: a datanode is a member of
/// several pipelines, mostly with the same few other datanodes. One port keeps the configuration
/// as Ozone's (`hdds.container.ratis.ipc.port`), and one connection per remote process keeps
/// sockets, handshakes and reconnect storms independent of the number of pipelines (Ratis' server
/// proxy shares its channels the same way). Each message carries its group on the wire
/// (raft.proto `Message.group`); see ``InboundBatchHandler`` for how inbound batches are sorted.
///
/// A `PeerID` names a process, the same in every group it is a member of, and its address is
/// process-wide: the last `setAddress` for a peer wins, whichever group gave it. The connection
/// to a peer closes when no group lists it any more.
///
/// Sending: see ``RaftRPCTransport`` (batching, pipelining, splitting, backoff and failure
/// episodes are per connection, so per remote process). A failure episode is reported to every
/// started group that lists the peer or sent to it, once each.
public final class RaftRPCEndpoint: Sendable {
  /// The O3RPC method that carries batches.
  public static let method = "raft.messages"

  /// The peer this endpoint sends from and receives for, in every group.
  public let localPeer: PeerID
  private let listenHost: String
  private let listenPort: Int
  private let eventLoopGroup: any EventLoopGroup
  let context: TransportContext
  private let state = Mutex(State())

  private struct State {
    var links: [PeerID: PeerLink] = [:]
    var lifecycle = Lifecycle.idle
  }

  private enum Lifecycle {
    case idle
    case binding
    case serving(RPCServer)
    case stopped

    var isStopped: Bool {
      if case .stopped = self { true } else { false }
    }
  }

  /// An endpoint for `localPeer` that will listen on `listenHost:listenPort` (port 0 picks a
  /// free port, see ``localPort``) once started.
  ///
  /// - Throws: ``RaftRPCError`` with code `invalidConfiguration` when `limits` are inconsistent,
  ///   for example a batch limit that does not fit an RPC frame.
  public init(
    localPeer: PeerID, listenHost: String, listenPort: Int, eventLoopGroup: any EventLoopGroup,
    limits: RaftRPCLimits = RaftRPCLimits(), logger: Logger = Logger(label: "o3.raft.rpc")
  ) throws(RaftRPCError) {
    try limits.validate()
    self.localPeer = localPeer
    self.listenHost = listenHost
    self.listenPort = listenPort
    self.eventLoopGroup = eventLoopGroup
    var logger = logger
    logger[metadataKey: "raft.local"] = "\(localPeer)"
    context = TransportContext(localPeer: localPeer, limits: limits, logger: logger)
  }

  /// The port the server listens on, once started; 0 before and after.
  public var localPort: Int {
    state.withLock { state in
      if case .serving(let server) = state.lifecycle { server.localPort } else { 0 }
    }
  }

  /// Counters since the endpoint was made: per peer (process) and per hosted group.
  public var statistics: RaftRPCStatistics {
    context.statistics
  }

  /// The groups registered through ``transport(for:)`` and not shut down, in id order.
  public var hostedGroups: [RaftGroupID] {
    context.withRegistry { $0.groups }
  }

  /// Binds the port and serves; call once. Groups may be added before or after.
  ///
  /// - Throws: `RPCError.bindFailed` naming the address when it cannot listen; the endpoint may
  ///   then be started again.
  public func start() async throws {
    let refused = state.withLock { state in
      guard case .idle = state.lifecycle else { return true }
      state.lifecycle = .binding
      return false
    }
    precondition(!refused, "RaftRPCEndpoint.start called twice or after shutdown")
    let handler = InboundBatchHandler(context: context)
    let router = RPCRouter([
      Self.method: { payload, call, responder in
        handler.handle(payload, call: call, responder: responder)
      }
    ])
    let server: RPCServer
    do {
      server = try await RPCServer.start(
        host: listenHost, port: listenPort, handler: router, limits: context.limits.rpc,
        group: eventLoopGroup)
    } catch {
      state.withLock { state in
        if case .binding = state.lifecycle { state.lifecycle = .idle }
      }
      throw error
    }
    let stoppedMeanwhile = state.withLock { state in
      guard case .binding = state.lifecycle else { return true }
      state.lifecycle = .serving(server)
      return false
    }
    if stoppedMeanwhile {
      try? await server.shutdown()
      return
    }
    context.logger.info(
      "Raft RPC of peer \(localPeer) listening on \(listenHost):\(server.localPort)")
  }

  /// Registers `group` and returns its transport, to give to the group's `RaftServer`. Messages
  /// for the group are accepted once that transport is started, from the peers given to its
  /// `setAddress`.
  ///
  /// - Throws: ``RaftRPCError`` with code `groupExists` when the group is already hosted (its
  ///   transport has not been shut down), `endpointStopped` after ``shutdown()``.
  public func transport(for group: RaftGroupID) throws(RaftRPCError) -> RaftRPCGroupTransport {
    guard !state.withLock({ $0.lifecycle.isStopped }) else {
      throw RaftRPCError(
        .endpointStopped, "the Raft endpoint of peer \(localPeer) has shut down; group \(group) cannot be added")
    }
    guard context.withRegistry({ $0.register(group) }) else {
      throw RaftRPCError(
        .groupExists,
        "peer \(localPeer) already hosts Raft group \(group); shut its transport down before adding it again")
    }
    return RaftRPCGroupTransport(group: group, endpoint: self)
  }

  /// Stops the server and closes every peer connection; later sends are dropped and counted.
  public func shutdown() async {
    let (server, links) = state.withLock { state in
      let server: RPCServer? = if case .serving(let server) = state.lifecycle { server } else { nil }
      state.lifecycle = .stopped
      defer { state.links = [:] }
      return (server, Array(state.links.values))
    }
    try? await server?.shutdown()
    for link in links {
      try? await link.close().get()
    }
  }

  // MARK: What group transports call

  /// Installs a group's handlers. A member whose link is in a failure episode is reported at once:
  /// the group missed the report made when the episode began.
  func startGroup(_ group: RaftGroupID, handlers: GroupRegistry.Handlers) {
    guard let members = context.withRegistry({ $0.start(group, handlers: handlers) }) else { return }
    let failing = state.withLock { state in
      members.filter { state.links[$0]?.isInFailureEpisode == true }
    }
    for peer in failing.sorted() {
      tell(group, handlers, that: peer)
    }
  }

  /// Where `peer` listens, process-wide, and that it is a member of `group` from now on.
  func setAddress(_ address: String, of peer: PeerID, in group: RaftGroupID) {
    let parsed = PeerAddress(parsing: address)
    if parsed == nil {
      let text =
        "the Raft address \"\(address)\" of peer \(peer) is not host:port with a port in "
        + "1...65535; messages to it are dropped until a valid address is set"
      context.logger.error("\(text)")
    }
    let (existing, missedEpisode) = state.withLock { state -> (PeerLink?, GroupRegistry.Handlers?) in
      let joined = context.withRegistry { $0.join(peer, group) }
      if case .notRegistered = joined { return (nil, nil) }
      guard !state.lifecycle.isStopped else { return (nil, nil) }
      guard let link = state.links[peer] else {
        state.links[peer] = PeerLink(
          peer: peer, address: parsed, eventLoop: eventLoopGroup.next(), context: context)
        return (nil, nil)
      }
      guard case .joined(let handlers?) = joined, link.isInFailureEpisode else { return (link, nil) }
      return (link, handlers)
    }
    existing?.setAddress(parsed)
    if let missedEpisode {
      tell(group, missedEpisode, that: peer)
    }
  }

  /// Takes `peer` out of `group`; its connection closes when no group lists it any more.
  func removePeer(_ peer: PeerID, from group: RaftGroupID) {
    let link = state.withLock { state -> PeerLink? in
      guard !context.withRegistry({ $0.leave(peer, group) }) else { return nil }
      return state.links.removeValue(forKey: peer)
    }
    _ = link?.close()
  }

  /// Forgets `group`, and closes the connections of its members that no other group lists.
  func unregister(_ group: RaftGroupID) async {
    let orphaned = state.withLock { state in
      context.withRegistry { $0.unregister(group) }.compactMap { state.links.removeValue(forKey: $0) }
    }
    for link in orphaned {
      try? await link.close().get()
    }
  }

  /// Hands `messages`, all to `peer` and of `group`, to that peer's event loop.
  func submit(_ messages: [RaftMessage], to peer: PeerID, group: RaftGroupID) {
    let link: PeerLink? = state.withLock { state in
      guard !state.lifecycle.isStopped else { return nil }
      if let link = state.links[peer] { return link }
      let link = PeerLink(peer: peer, address: nil, eventLoop: eventLoopGroup.next(), context: context)
      state.links[peer] = link
      return link
    }
    guard let link else {
      context.counters.recordDrop(peer, messages: messages.count, reason: .peerRemoved)
      context.logger.debug("dropped \(messages.count) messages to \(peer): transport stopped")
      return
    }
    link.submit(messages, group: group)
  }

  private func tell(_ group: RaftGroupID, _ handlers: GroupRegistry.Handlers, that peer: PeerID) {
    context.withRegistry { $0.countUnreachableReport(group) }
    context.logger.debug("group \(group) lists peer \(peer), whose link is failing: reported unreachable")
    handlers.onUnreachable(peer)
  }
}
