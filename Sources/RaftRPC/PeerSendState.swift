import NIOCore

/// The rules of one peer's sender — connection lifecycle, queue bounds, pipelining depth, backoff
/// and failure episodes — without sockets or clocks. ``PeerSender`` feeds it events and performs
/// what it answers, so these rules are tested without a network.
///
/// Every connection attempt gets a new epoch; events from an earlier attempt or connection (a late
/// connect result, a call failing on a connection already replaced) carry the old epoch and change
/// nothing here.
///
/// A failure episode starts with the first message dropped for the peer and ends with the next
/// call the peer acknowledges; `onUnreachable` is reported once per episode.
struct PeerSendState {
  /// Where the connection stands.
  enum Connection: Equatable {
    /// Nothing was ever sent: the first batch starts a connection.
    case idle
    case connecting
    case connected
    /// The last attempt failed; a timer starts the next one. Batches are dropped meanwhile.
    case waitingToReconnect
    /// Removed or shut down: everything is dropped.
    case closed
  }

  /// What became of a batch offered to `enqueue`.
  enum EnqueueResult: Equatable {
    case queued
    /// Queued; start a connection attempt with this epoch.
    case queuedAndConnect(epoch: UInt64)
    case dropped(RaftRPCDropReason)
  }

  /// What to do after a failed connection attempt.
  struct ConnectFailure {
    /// The batches that were waiting for the connection: drop them.
    var dropped: [OutboundBatch]
    /// Start the next attempt after this long.
    var retryDelay: TimeAmount
  }

  let limits: RaftRPCLimits
  private(set) var connection = Connection.idle
  private(set) var epoch: UInt64 = 0
  private(set) var queue = CircularBuffer<OutboundBatch>()
  /// Payload bytes in `queue`; at most `limits.queuedBytesPerPeerMax`.
  private(set) var queuedBytes = 0
  /// Calls unanswered on the current connection; at most `limits.outstandingCallsPerPeerMax`.
  private(set) var outstandingCalls = 0
  /// Attempts that failed since the last connection was made; sets the backoff.
  private(set) var failedAttempts = 0
  private(set) var inFailureEpisode = false

  init(limits: RaftRPCLimits) {
    self.limits = limits
  }

  /// Offers a batch for sending.
  mutating func enqueue(_ batch: OutboundBatch) -> EnqueueResult {
    switch connection {
    case .closed: return .dropped(.peerRemoved)
    case .waitingToReconnect: return .dropped(.peerUnreachable)
    case .idle, .connecting, .connected: break
    }
    guard queuedBytes + batch.bytes <= limits.queuedBytesPerPeerMax else {
      return .dropped(.queueFull)
    }
    queue.append(batch)
    queuedBytes += batch.bytes
    guard connection == .idle else { return .queued }
    return .queuedAndConnect(epoch: startAttempt())
  }

  /// The next batch to hand to the connection, if it is up and has room for another call.
  ///
  /// Batches that queued up behind a full pipeline leave together: a batch's encoding is the
  /// concatenation of its messages' encodings, so consecutive batches concatenate into one valid
  /// batch, here up to `limits.batchBytesMax`. Under load this pays the call's framing and reply
  /// once for many sends.
  mutating func nextCall() -> OutboundBatch? {
    guard connection == .connected, outstandingCalls < limits.outstandingCallsPerPeerMax,
      var batch = queue.popFirst()
    else { return nil }
    queuedBytes -= batch.bytes
    while let next = queue.first, batch.bytes + next.bytes <= limits.batchBytesMax {
      queue.removeFirst()
      queuedBytes -= next.bytes
      var payload = next.payload
      batch.payload.writeBuffer(&payload)
      batch.messageCount += next.messageCount
    }
    outstandingCalls += 1
    return batch
  }

  /// A call made on connection `epoch` was answered or failed without breaking the connection.
  /// Returns true when an acknowledgement ended a failure episode.
  mutating func callFinished(epoch callEpoch: UInt64, acknowledged: Bool) -> Bool {
    if callEpoch == epoch, connection == .connected {
      outstandingCalls -= 1
      precondition(outstandingCalls >= 0, "more calls finished than were started")
    }
    guard acknowledged, inFailureEpisode else { return false }
    inFailureEpisode = false
    return true
  }

  /// Messages were dropped: returns true when this starts a failure episode (report the peer
  /// unreachable), false when one is already under way.
  mutating func messagesDropped() -> Bool {
    guard !inFailureEpisode else { return false }
    inFailureEpisode = true
    return true
  }

  /// Attempt `attemptEpoch` connected. False means the attempt is stale: close what it opened.
  mutating func connectSucceeded(epoch attemptEpoch: UInt64) -> Bool {
    guard attemptEpoch == epoch, connection == .connecting else { return false }
    connection = .connected
    failedAttempts = 0
    outstandingCalls = 0
    return true
  }

  /// Attempt `attemptEpoch` failed; nil when it is stale.
  mutating func connectFailed(epoch attemptEpoch: UInt64) -> ConnectFailure? {
    guard attemptEpoch == epoch, connection == .connecting else { return nil }
    connection = .waitingToReconnect
    failedAttempts += 1
    return ConnectFailure(
      dropped: drainQueue(), retryDelay: limits.reconnectDelay(afterFailures: failedAttempts))
  }

  /// The backoff timer fired: the epoch of the attempt to start, or nil when none is due.
  mutating func retryDue() -> UInt64? {
    guard connection == .waitingToReconnect else { return nil }
    return startAttempt()
  }

  /// Connection `connectionEpoch` broke: the epoch of the attempt to start at once, or nil when
  /// that connection was already replaced. Calls outstanding on it are lost; queued batches wait
  /// for the new connection.
  mutating func connectionLost(epoch connectionEpoch: UInt64) -> UInt64? {
    guard connectionEpoch == epoch, connection == .connected else { return nil }
    return startAttempt()
  }

  /// The peer moved: the epoch of an attempt to the new address, or nil when no connection is
  /// wanted yet (never used, or closed). Backoff restarts, since the new address is untried.
  mutating func addressChanged() -> UInt64? {
    switch connection {
    case .idle, .closed: return nil
    case .connecting, .connected, .waitingToReconnect:
      failedAttempts = 0
      return startAttempt()
    }
  }

  /// The peer was removed or the transport shuts down: returns the batches to drop.
  mutating func close() -> [OutboundBatch] {
    connection = .closed
    outstandingCalls = 0
    return drainQueue()
  }

  private mutating func startAttempt() -> UInt64 {
    epoch += 1
    connection = .connecting
    outstandingCalls = 0
    return epoch
  }

  private mutating func drainQueue() -> [OutboundBatch] {
    let batches = Array(queue)
    queue.removeAll()
    queuedBytes = 0
    return batches
  }
}
