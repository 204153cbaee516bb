import RaftCore

/// Moves Raft messages between peers. The runtime hands it every message of a Ready at once,
/// after the Ready's entries and hard state are durable, and receives inbound messages through
/// the handler given to `start`.
///
/// Contract:
/// * `send` never blocks and never throws: a message that cannot be delivered is dropped (Raft
///   retries by itself) and the peer is reported through `onUnreachable`, so the core can drop
///   the peer back to probing.
/// * Messages to one peer leave in the order given; several AppendEntries may be in flight to
///   one peer at once (pipelining), bounded by the core's inflight window.
/// * A message larger than the transport's frame limit is split or refused loudly, never
///   silently dropped.
public protocol RaftTransport: Sendable {
  /// Starts listening; `receive` is called with each batch of inbound messages (any thread),
  /// `onUnreachable` when a peer cannot be reached.
  func start(
    receive: @escaping @Sendable ([RaftMessage]) -> Void,
    onUnreachable: @escaping @Sendable (PeerID) -> Void
  ) async throws

  /// Sends messages to their `to` peers.
  func send(_ messages: [RaftMessage])

  /// Learns or updates where a peer listens (from configuration or a membership change's context).
  func setAddress(_ address: String, of peer: PeerID)

  /// Forgets a peer that left the group and closes its connection.
  func removePeer(_ peer: PeerID)

  /// Stops listening and closes every connection.
  func shutdown() async
}
