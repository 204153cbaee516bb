/// What a handed-out Ready promised, so that `advance()` knows what became durable and applied.
struct OutstandingReady {
  var lastEntry: TermIndex?
  var snapshotIndex: UInt64?
  var lastCommittedEntry: UInt64?
}

extension RaftNode {
  /// Whether ``ready()`` would return anything to do.
  public var hasReady: Bool {
    guard outstandingReady == nil else { return false }
    return currentSoftState != reportedSoftState || currentHardState != reportedHardState
      || log.unstable.snapshot != nil || !log.unstable.entries.isEmpty || !outbox.isEmpty
      || !readStates.isEmpty || noticeToReport != nil
      || min(log.committed, log.persistedLastIndex) > log.applied
      || (broadcastPending && role == .leader)
  }

  /// Collects everything to persist, send and apply; hand it back with ``advance()``.
  public mutating func ready() -> Ready {
    precondition(outstandingReady == nil, "ready() called again before advance()")
    if broadcastPending && role == .leader { broadcastAppend() }
    broadcastPending = false
    var ready = Ready()
    let softState = currentSoftState
    let hardState = currentHardState
    if softState != reportedSoftState { ready.softState = softState }
    if hardState != reportedHardState { ready.hardState = hardState }
    ready.snapshot = log.unstable.snapshot
    ready.entries = log.unstable.entries
    ready.committedEntries = log.committedEntriesToApply(
      payloadBytesMax: configuration.committedBytesPerReadyMax)
    ready.messages = outbox
    ready.readStates = readStates
    ready.snapshotNotice = noticeToReport
    ready.mustSync =
      hardState.term != reportedHardState.term || hardState.vote != reportedHardState.vote
      || !ready.entries.isEmpty || ready.snapshot != nil
    ready.messagesMayPrecedePersistence =
      role == .leader && ready.snapshot == nil
      && hardState.term == reportedHardState.term && hardState.vote == reportedHardState.vote
    outbox = []
    readStates = []
    noticeToReport = nil
    reportedSoftState = softState
    reportedHardState = hardState
    // Reads arriving from now on need a fresh heartbeat round: these heartbeats are on their way.
    reads.closeOpenRound()
    outstandingReady = OutstandingReady(
      lastEntry: ready.entries.last?.termIndex, snapshotIndex: ready.snapshot?.last.index,
      lastCommittedEntry: ready.committedEntries.last?.index)
    return ready
  }

  /// Acknowledges the last ``ready()``: its writes are durable and its committed entries
  /// applied.
  public mutating func advance() {
    guard let done = outstandingReady else {
      preconditionFailure("advance() without an outstanding ready()")
    }
    outstandingReady = nil
    if let snapshotIndex = done.snapshotIndex { log.unstable.snapshotStable(at: snapshotIndex) }
    if let lastEntry = done.lastEntry { log.unstable.stableTo(lastEntry) }
    if let lastCommitted = done.lastCommittedEntry { log.applied(through: lastCommitted) }
    if log.unstable.snapshot == nil { membershipLog.compact(to: log.snapshot) }
    if role == .leader { leaderPersisted() }
  }

  var currentSoftState: SoftState { SoftState(leader: leader, role: role) }
  var currentHardState: HardState { HardState(term: term, vote: vote, commit: log.committed) }

  /// Queues a message to `peer` in the current term.
  mutating func send(to peer: PeerID, _ body: RaftMessage.Body, term messageTerm: UInt64? = nil) {
    precondition(peer != id, "a peer never messages itself")
    outbox.append(RaftMessage(from: id, to: peer, term: messageTerm ?? term, body: body))
  }
}

/// The payload of the entries a leader appended in its term and has not yet seen committed,
/// bounded by `uncommittedBytesMax` so that a leader cut off from its followers stops growing
/// its log.
struct UncommittedPayloads {
  private var pending: [(index: UInt64, bytes: Int)] = []
  private var head = 0
  private(set) var bytes = 0

  /// Whether `payloadBytes` more fit; a single entry always fits an empty tail.
  func admits(_ payloadBytes: Int, limit: Int) -> Bool {
    bytes == 0 || bytes + payloadBytes <= limit
  }

  mutating func appended(index: UInt64, payloadBytes: Int) {
    guard payloadBytes > 0 else { return }
    pending.append((index, payloadBytes))
    bytes += payloadBytes
  }

  mutating func committed(through index: UInt64) {
    while head < pending.count && pending[head].index <= index {
      bytes -= pending[head].bytes
      head += 1
    }
    // Reclaim the consumed prefix once it dominates, keeping removal amortised O(1).
    if head > 64 && head * 2 > pending.count {
      pending.removeFirst(head)
      head = 0
    }
  }

  mutating func reset() {
    pending = []
    head = 0
    bytes = 0
  }
}
