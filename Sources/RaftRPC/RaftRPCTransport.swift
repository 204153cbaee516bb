import Logging
import NIOCore
import O3RPC
import Raft
import RaftCore

/// Raft's transport over O3RPC for a server that hosts one group (the OM, SCM): a
/// ``RaftRPCEndpoint`` of its own and that endpoint's transport for the default group, started
/// and stopped together. A process hosting several groups (a datanode's pipelines) uses the
/// endpoint directly.
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
///
/// The default group adds no bytes to a message, so this transport's wire traffic is what it was
/// before the endpoint hosted groups.
public final class RaftRPCTransport: RaftTransport {
  /// The O3RPC method that carries batches.
  public static let method = RaftRPCEndpoint.method

  /// The port and connections.
  public let endpoint: RaftRPCEndpoint
  private let defaultGroup: RaftRPCGroupTransport

  /// A transport for `localPeer` that will listen on `listenHost:listenPort` (port 0 picks a
  /// free port, see ``localPort``) once started.
  ///
  /// - Throws: ``RaftRPCError`` with code `invalidConfiguration` when `limits` are inconsistent,
  ///   for example a batch limit that does not fit an RPC frame.
  public init(
    localPeer: PeerID, listenHost: String, listenPort: Int, group: any EventLoopGroup,
    limits: RaftRPCLimits = RaftRPCLimits(), logger: Logger = Logger(label: "o3.raft.rpc")
  ) throws(RaftRPCError) {
    endpoint = try RaftRPCEndpoint(
      localPeer: localPeer, listenHost: listenHost, listenPort: listenPort, eventLoopGroup: group,
      limits: limits, logger: logger)
    do {
      defaultGroup = try endpoint.transport(for: .default)
    } catch {
      preconditionFailure("a new endpoint refused its first group: \(error)")
    }
  }

  /// The peer this transport sends from and receives for.
  public var localPeer: PeerID { endpoint.localPeer }

  /// The port the server listens on, once started; 0 before and after.
  public var localPort: Int { endpoint.localPort }

  /// Counters since the transport was made.
  public var statistics: RaftRPCStatistics { endpoint.statistics }

  /// Starts the server; call once.
  ///
  /// - Throws: `RPCError.bindFailed` naming the address when it cannot listen.
  public func start(
    receive: @escaping @Sendable ([RaftMessage]) -> Void,
    onUnreachable: @escaping @Sendable (PeerID) -> Void
  ) async throws {
    // Handlers first, so that nothing arriving the moment the port opens is dropped.
    try await defaultGroup.start(receive: receive, onUnreachable: onUnreachable)
    do {
      try await endpoint.start()
    } catch {
      defaultGroup.abandonStart()
      throw error
    }
  }

  public func send(_ messages: [RaftMessage]) {
    defaultGroup.send(messages)
  }

  /// Sets where `peer` listens (`host:port`, IPv6 hosts in brackets) and accepts batches from
  /// it from now on. An address that does not parse is logged as an error, and messages to the
  /// peer are dropped until a valid one is set.
  public func setAddress(_ address: String, of peer: PeerID) {
    defaultGroup.setAddress(address, of: peer)
  }

  /// Drops what is queued for `peer`, closes its connection and refuses its batches from now on.
  public func removePeer(_ peer: PeerID) {
    defaultGroup.removePeer(peer)
  }

  /// Stops the server and closes every peer connection; later sends are dropped and counted.
  public func shutdown() async {
    await endpoint.shutdown()
  }
}
