import Logging
import NIOCore
import O3RPC
import Raft
import RaftCore
import Synchronization

/// Sends one peer's messages over one long-lived O3RPC connection, pipelined, and keeps that
/// connection up: it connects on first use, and after a failure retries with backoff. The peer is
/// a process: every group this process shares with it sends over this one connection, each
/// message labelled with its group, through one queue (see ``PeerSendState``).
///
/// Lives on one event loop (its connection's), so every call it starts and every answer it gets
/// costs no thread hop; ``PeerLink`` is how other threads reach it. The rules it follows are
/// ``PeerSendState``'s; this class performs them and keeps the counters and the log.
final class PeerSender {
  let peer: PeerID
  private let eventLoop: any EventLoop
  private let context: TransportContext
  private let encoder: RaftBatchEncoder
  private var logger: Logger
  private var state: PeerSendState
  private var address: PeerAddress?
  private var client: RPCClient?
  private var retryTimer: Scheduled<Void>?
  /// Messages dropped in the current failure episode, for the line that ends it.
  private var droppedInEpisode = 0
  /// The episode as other threads see it.
  private let episode: FailureEpisodeFlag

  init(
    peer: PeerID, address: PeerAddress?, eventLoop: any EventLoop, context: TransportContext,
    episode: FailureEpisodeFlag
  ) {
    self.peer = peer
    self.address = address
    self.eventLoop = eventLoop
    self.context = context
    self.episode = episode
    encoder = RaftBatchEncoder(batchBytesMax: context.limits.batchBytesMax)
    state = PeerSendState(limits: context.limits)
    logger = context.logger
    logger[metadataKey: "raft.peer"] = "\(peer)"
  }

  /// Encodes `messages`, all of `group`, into batches and sends or queues them, in order.
  func submit(_ messages: [RaftMessage], group: RaftGroupID) {
    let output = encoder.encode(messages, group: group)
    if output.appendsSplit > 0 {
      context.counters.update(peer) { $0.appendsSplit += output.appendsSplit }
    }
    for refusal in output.refusals {
      logger.error("refused to send to peer \(peer): \(refusal.explanation)")
      drop(refusal.messageCount, reason: refusal.reason, detail: refusal.explanation)
    }
    for batch in output.batches {
      offer(batch)
    }
    pump()
  }

  /// The peer listens somewhere else now (nil: nowhere known): reconnect there.
  func setAddress(_ newAddress: PeerAddress?) {
    guard newAddress != address else { return }
    address = newAddress
    guard let epoch = state.addressChanged() else { return }
    retryTimer?.cancel()
    retryTimer = nil
    closeClient()
    connect(epoch: epoch)
  }

  /// Drops whatever is queued and closes the connection; the future completes once it is closed.
  func close() -> EventLoopFuture<Void> {
    let dropped = state.close().reduce(0) { $0 + $1.messageCount }
    if dropped > 0 {
      drop(dropped, reason: .peerRemoved, detail: "the peer was removed or the transport stopped")
    }
    retryTimer?.cancel()
    retryTimer = nil
    guard let client else { return eventLoop.makeSucceededVoidFuture() }
    self.client = nil
    return eventLoop.makeFutureWithTask { await client.close() }
  }

  private func offer(_ batch: OutboundBatch) {
    guard address != nil else {
      drop(batch.messageCount, reason: .noAddress, detail: "no valid address is known for it")
      return
    }
    switch state.enqueue(batch) {
    case .queued:
      break
    case .queuedAndConnect(let epoch):
      connect(epoch: epoch)
    case .dropped(let reason):
      drop(batch.messageCount, reason: reason, detail: "batch of \(batch.bytes) bytes")
    }
  }

  /// Starts calls for queued batches while the connection has room for them.
  private func pump() {
    guard let client, state.connection == .connected else { return }
    guard client.isActive else {
      connectionLost(epoch: state.epoch)
      return
    }
    let epoch = state.epoch
    var calls = 0
    var messages = 0
    var bytes = 0
    while let batch = state.nextCall() {
      calls += 1
      messages += batch.messageCount
      bytes += batch.bytes
      let messageCount = batch.messageCount
      client.call(
        method: RaftRPCEndpoint.method, payload: batch.payload,
        deadline: context.limits.callTimeout
      ).assumeIsolated().whenComplete { result in
        self.callCompleted(result, messageCount: messageCount, epoch: epoch)
      }
    }
    guard calls > 0 else { return }
    let outstanding = state.outstandingCalls
    context.counters.update(peer) { statistics in
      statistics.callsSent += calls
      statistics.messagesSent += messages
      statistics.bytesSent += bytes
      statistics.outstandingCallsPeak = max(statistics.outstandingCallsPeak, outstanding)
    }
  }

  private func callCompleted(
    _ result: Result<ByteBuffer, any Error>, messageCount: Int, epoch: UInt64
  ) {
    switch result {
    case .success:
      context.counters.update(peer) { $0.callsAcknowledged += 1 }
      if state.callFinished(epoch: epoch, acknowledged: true) {
        episode.set(false)
        logger.info(
          "peer \(peer) acknowledges batches again; \(droppedInEpisode) messages were dropped")
        droppedInEpisode = 0
      }
    case .failure(let error):
      let reason = state.connection == .closed ? .peerRemoved : Self.dropReason(for: error)
      drop(messageCount, reason: reason, detail: ConnectionFailure.describe(error))
      if reason == .connectionLost {
        connectionLost(epoch: epoch)
      } else {
        _ = state.callFinished(epoch: epoch, acknowledged: false)
      }
    }
    pump()
  }

  private static func dropReason(for error: any Error) -> RaftRPCDropReason {
    switch error as? RPCError {
    case .deadlineExceeded: .timedOut
    case .remote: .refusedByPeer
    default: .connectionLost
    }
  }

  private func connectionLost(epoch: UInt64) {
    guard let newEpoch = state.connectionLost(epoch: epoch) else { return }
    logger.debug("the connection to peer \(peer) closed; reconnecting")
    closeClient()
    connect(epoch: newEpoch)
  }

  private func connect(epoch: UInt64) {
    guard let address else {
      connectCompleted(.failure(NoAddress()), epoch: epoch)
      return
    }
    let limits = context.limits
    let loop = eventLoop
    eventLoop.makeFutureWithTask {
      try await RPCClient.connect(
        host: address.host, port: address.port, limits: limits.rpc, group: loop,
        connectTimeout: limits.connectTimeout)
    }.assumeIsolated().whenComplete { result in
      self.connectCompleted(result, epoch: epoch)
    }
  }

  private func connectCompleted(_ result: Result<RPCClient, any Error>, epoch: UInt64) {
    switch result {
    case .success(let newClient):
      guard state.connectSucceeded(epoch: epoch) else {
        _ = eventLoop.makeFutureWithTask { await newClient.close() }
        return
      }
      client = newClient
      context.counters.update(peer) { $0.connectionsEstablished += 1 }
      logger.debug("connected to peer \(peer)")
      pump()
    case .failure(let error):
      guard let failure = state.connectFailed(epoch: epoch) else { return }
      context.counters.update(peer) { $0.connectFailures += 1 }
      let reason = ConnectionFailure.describe(error)
      logger.debug("cannot connect to peer \(peer): \(reason); next attempt in \(failure.retryDelay)")
      let dropped = failure.dropped.reduce(0) { $0 + $1.messageCount }
      if dropped > 0 {
        drop(dropped, reason: .peerUnreachable, detail: reason)
      }
      retryTimer = eventLoop.assumeIsolated().scheduleTask(in: failure.retryDelay) {
        self.retryDue()
      }
    }
  }

  private func retryDue() {
    retryTimer = nil
    guard let epoch = state.retryDue() else { return }
    connect(epoch: epoch)
  }

  private func closeClient() {
    guard let client else { return }
    self.client = nil
    _ = eventLoop.makeFutureWithTask { await client.close() }
  }

  /// Counts and logs a drop; the first drop of a failure episode is logged as a warning and
  /// reported through `onUnreachable`, so the Raft core stops pipelining to this peer.
  private func drop(_ messageCount: Int, reason: RaftRPCDropReason, detail: String) {
    context.counters.recordDrop(peer, messages: messageCount, reason: reason)
    guard reason != .peerRemoved else {
      logger.debug("dropped \(messageCount) messages to removed peer \(peer)")
      return
    }
    droppedInEpisode += messageCount
    if state.messagesDropped() {
      let place = address.map(\.description) ?? "no address"
      let text =
        "dropping messages to peer \(peer) at \(place) (\(reason.rawValue): \(detail)); "
        + "reporting it unreachable until it acknowledges a batch"
      logger.warning("\(text)")
      episode.set(true)
      context.reportUnreachable(peer)
    } else {
      logger.debug("dropped \(messageCount) messages to peer \(peer): \(reason.rawValue)")
    }
  }

  /// The failure of a connection attempt to a peer without a usable address.
  private struct NoAddress: Error, CustomStringConvertible {
    var description: String { "no valid address is known for the peer" }
  }
}

/// Whether a link is in a failure episode (from its first dropped message to the next
/// acknowledged call), readable from any thread: a group that starts listing the peer while an
/// episode is under way is told at once, as it would have been had it listed the peer when the
/// episode began.
final class FailureEpisodeFlag: Sendable {
  private let failing = Atomic<Bool>(false)

  var isSet: Bool { failing.load(ordering: .acquiring) }

  func set(_ value: Bool) {
    failing.store(value, ordering: .releasing)
  }
}

/// A handle on a ``PeerSender`` usable from any thread: every operation hops onto the sender's
/// event loop, one task per call, in the order the calls were made.
final class PeerLink: Sendable {
  let peer: PeerID
  let eventLoop: any EventLoop
  private let sender: NIOLoopBoundBox<PeerSender>
  private let episode: FailureEpisodeFlag

  init(peer: PeerID, address: PeerAddress?, eventLoop: any EventLoop, context: TransportContext) {
    self.peer = peer
    self.eventLoop = eventLoop
    let episode = FailureEpisodeFlag()
    self.episode = episode
    sender = NIOLoopBoundBox.makeBoxSendingValue(
      PeerSender(peer: peer, address: address, eventLoop: eventLoop, context: context, episode: episode),
      eventLoop: eventLoop)
  }

  /// Whether messages to the peer are being dropped (reported unreachable, not yet recovered).
  var isInFailureEpisode: Bool { episode.isSet }

  func submit(_ messages: [RaftMessage], group: RaftGroupID) {
    eventLoop.execute { self.sender.value.submit(messages, group: group) }
  }

  func setAddress(_ address: PeerAddress?) {
    eventLoop.execute { self.sender.value.setAddress(address) }
  }

  func close() -> EventLoopFuture<Void> {
    eventLoop.flatSubmit { self.sender.value.close() }
  }
}
