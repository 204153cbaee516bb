import Logging
import NIOCore
import O3RPC
import Raft
import RaftCore
import Synchronization

/// Raft's transport over O3RPC: one server receiving batches of messages, and per peer one
/// long-lived connection carrying pipelined batches.
///
/// Sending: `send` groups messages by peer and hands each group to that peer's event loop in one
/// hop; there they are encoded into batches of at most `RaftRPCLimits.batchBytesMax` bytes
/// (splitting an AppendEntries that is larger) and sent without waiting for earlier replies, up
/// to `outstandingCallsPerPeerMax` calls at once; batches that queue behind a full pipeline leave
/// merged into one call, up to the batch limit. A peer's connection is made on first use and
/// remade with backoff after a failure. Nothing is dropped silently: every drop is counted in
/// ``statistics`` by reason, logged, and starts a failure episode that `onUnreachable` reports
/// once (see ``PeerSendState``).
///
/// Receiving: each inbound batch reaches `receive` in one call, on the event loop of the
/// connection it came on, in the order its sender sent it. Only batches from peers given to
/// ``setAddress(_:of:)`` are accepted: anyone who can reach the port could otherwise make a
/// replica adopt any term or follow a leader that is not a member (a batch from a stranger is
/// refused with `RAFT_UNKNOWN_PEER`).
public final class RaftRPCTransport: RaftTransport {
  /// The O3RPC method that carries batches.
  public static let method = "raft.messages"

  /// The peer this transport sends from and receives for.
  public let localPeer: PeerID
  private let listenHost: String
  private let listenPort: Int
  private let group: any EventLoopGroup
  private let context: TransportContext
  private let state = Mutex(State())

  private struct State {
    var links: [PeerID: PeerLink] = [:]
    var server: RPCServer?
    var started = false
    var stopped = false
  }

  /// A transport for `localPeer` that will listen on `listenHost:listenPort` (port 0 picks a
  /// free port, see ``localPort``) once started.
  ///
  /// - Throws: ``RaftRPCError`` with code `invalidConfiguration` when `limits` are inconsistent,
  ///   for example a batch limit that does not fit an RPC frame.
  public init(
    localPeer: PeerID, listenHost: String, listenPort: Int, group: any EventLoopGroup,
    limits: RaftRPCLimits = RaftRPCLimits(), logger: Logger = Logger(label: "o3.raft.rpc")
  ) throws(RaftRPCError) {
    try limits.validate()
    self.localPeer = localPeer
    self.listenHost = listenHost
    self.listenPort = listenPort
    self.group = group
    var logger = logger
    logger[metadataKey: "raft.local"] = "\(localPeer)"
    context = TransportContext(localPeer: localPeer, limits: limits, logger: logger)
  }

  /// The port the server listens on, once started; 0 before.
  public var localPort: Int {
    state.withLock { $0.server?.localPort } ?? 0
  }

  /// Counters since the transport was made.
  public var statistics: RaftRPCStatistics {
    context.counters.snapshot
  }

  /// Starts the server; call once.
  ///
  /// - Throws: `RPCError.bindFailed` naming the address when it cannot listen.
  public func start(
    receive: @escaping @Sendable ([RaftMessage]) -> Void,
    onUnreachable: @escaping @Sendable (PeerID) -> Void
  ) async throws {
    let refused = state.withLock { state in
      defer { state.started = true }
      return state.started || state.stopped
    }
    precondition(!refused, "RaftRPCTransport.start called twice or after shutdown")
    context.setUnreachableHandler(onUnreachable)
    let handler = InboundBatchHandler(context: context, receive: receive)
    let router = RPCRouter([
      Self.method: { payload, call, responder in
        handler.handle(payload, call: call, responder: responder)
      }
    ])
    let server: RPCServer
    do {
      server = try await RPCServer.start(
        host: listenHost, port: listenPort, handler: router, limits: context.limits.rpc,
        group: group)
    } catch {
      state.withLock { $0.started = false }
      throw error
    }
    let stoppedMeanwhile = state.withLock { state in
      guard !state.stopped else { return true }
      state.server = server
      return false
    }
    if stoppedMeanwhile {
      try? await server.shutdown()
      return
    }
    context.logger.info(
      "Raft RPC of peer \(localPeer) listening on \(listenHost):\(server.localPort)")
  }

  /// Hands each peer's messages, in order, to that peer's event loop.
  public func send(_ messages: [RaftMessage]) {
    guard let first = messages.first else { return }
    if messages.allSatisfy({ $0.to == first.to }) {
      submit(messages, to: first.to)
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
    for peer in peers {
      submit(messagesByPeer[peer]!, to: peer)
    }
  }

  /// Sets where `peer` listens (`host:port`, IPv6 hosts in brackets) and accepts batches from
  /// it from now on. An address that does not parse is logged as an error, and messages to the
  /// peer are dropped until a valid one is set.
  public func setAddress(_ address: String, of peer: PeerID) {
    context.learn(peer)
    let parsed = PeerAddress(parsing: address)
    if parsed == nil {
      let text =
        "the Raft address \"\(address)\" of peer \(peer) is not host:port with a port in "
        + "1...65535; messages to it are dropped until a valid address is set"
      context.logger.error("\(text)")
    }
    let existing: PeerLink? = state.withLock { state in
      guard !state.stopped else { return nil }
      if let link = state.links[peer] { return link }
      state.links[peer] = PeerLink(
        peer: peer, address: parsed, eventLoop: group.next(), context: context)
      return nil
    }
    existing?.setAddress(parsed)
  }

  /// Drops what is queued for `peer`, closes its connection and refuses its batches from now on.
  public func removePeer(_ peer: PeerID) {
    context.forget(peer)
    guard let link = state.withLock({ $0.links.removeValue(forKey: peer) }) else { return }
    _ = link.close()
  }

  /// Stops the server and closes every peer connection; later sends are dropped and counted.
  public func shutdown() async {
    let (server, links) = state.withLock { state in
      state.stopped = true
      defer {
        state.server = nil
        state.links = [:]
      }
      return (state.server, Array(state.links.values))
    }
    try? await server?.shutdown()
    for link in links {
      try? await link.close().get()
    }
  }

  private func submit(_ messages: [RaftMessage], to peer: PeerID) {
    let link: PeerLink? = state.withLock { state in
      guard !state.stopped else { return nil }
      if let link = state.links[peer] { return link }
      let link = PeerLink(peer: peer, address: nil, eventLoop: group.next(), context: context)
      state.links[peer] = link
      return link
    }
    guard let link else {
      context.counters.recordDrop(peer, messages: messages.count, reason: .peerRemoved)
      context.logger.debug("dropped \(messages.count) messages to \(peer): transport stopped")
      return
    }
    link.submit(messages)
  }
}
