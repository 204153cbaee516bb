/// Read requests a leader holds until it may answer them (Raft thesis §6.4).
///
/// Reads wait first for the leader's first commit in its term (before it, the leader's commit
/// index may be behind the true one), then for a heartbeat round that a majority answers. Reads
/// made before the next `ready()` share one round; an answer to a round confirms every earlier
/// round too, since those heartbeats left before it.
struct ReadQueue {
  /// One read: who asked, what to echo back, and the index to wait for.
  struct Request {
    var context: [UInt8]
    var from: PeerID
    var index: UInt64
    var round: UInt64
  }

  private(set) var awaitingFirstCommit: [(context: [UInt8], from: PeerID)] = []
  /// In ascending round order.
  private(set) var awaitingConfirmation: [Request] = []
  /// The newest round started; it only grows, across terms too.
  private(set) var latestRound: UInt64 = 0
  /// Whether the newest round's heartbeats have not yet been handed out, so new reads may join.
  private(set) var roundOpen = false

  var count: Int { awaitingFirstCommit.count + awaitingConfirmation.count }

  mutating func waitForFirstCommit(context: [UInt8], from: PeerID) {
    awaitingFirstCommit.append((context, from))
  }

  mutating func takeAwaitingFirstCommit() -> [(context: [UInt8], from: PeerID)] {
    defer { awaitingFirstCommit = [] }
    return awaitingFirstCommit
  }

  /// Queues a read for the open round; returns true when a new round had to be opened (the
  /// caller then sends its heartbeats).
  mutating func waitForConfirmation(context: [UInt8], from: PeerID, index: UInt64) -> Bool {
    let opened = !roundOpen
    if opened {
      latestRound += 1
      roundOpen = true
    }
    awaitingConfirmation.append(Request(context: context, from: from, index: index, round: latestRound))
    return opened
  }

  /// Removes and returns the reads of every round up to `round`.
  mutating func takeConfirmed(through round: UInt64) -> [Request] {
    let confirmedCount = awaitingConfirmation.prefix { $0.round <= round }.count
    defer { awaitingConfirmation.removeFirst(confirmedCount) }
    return Array(awaitingConfirmation.prefix(confirmedCount))
  }

  mutating func closeOpenRound() {
    roundOpen = false
  }

  /// Drops every pending read (leadership lost); callers retry on their timeout.
  mutating func reset() {
    awaitingFirstCommit = []
    awaitingConfirmation = []
    roundOpen = false
  }
}

extension RaftNode {
  mutating func leaderReadIndex(context: [UInt8], from requester: PeerID) throws(RaftError) {
    guard reads.count < configuration.pendingReadRequestsMax else {
      throw RaftError(.readQueueFull, "\(reads.count) reads are waiting; retry later")
    }
    guard log.term(at: log.committed) == term else {
      reads.waitForFirstCommit(context: context, from: requester)
      return
    }
    confirmRead(context: context, from: requester)
  }

  private mutating func confirmRead(context: [UInt8], from requester: PeerID) {
    let index = log.committed
    let onlyVoter = membership.voters == [id]
    if configuration.readMode == .leaseBased || onlyVoter {
      releaseRead(context: context, to: requester, index: index)
      return
    }
    if reads.waitForConfirmation(context: context, from: requester, index: index) {
      broadcastHeartbeat()
    }
  }

  mutating func releaseReadsAwaitingFirstCommit() {
    guard log.term(at: log.committed) == term else { return }
    for read in reads.takeAwaitingFirstCommit() {
      confirmRead(context: read.context, from: read.from)
    }
  }

  /// Releases the reads whose round a majority of voters has answered (the leader answers its
  /// own rounds at once).
  mutating func confirmReads() {
    let confirmedRound = MajorityQuorum.committedValue(voters: membership.voters) { voter in
      voter == id ? reads.latestRound : progress[voter]?.readRoundAcknowledged ?? 0
    }
    for read in reads.takeConfirmed(through: confirmedRound) {
      releaseRead(context: read.context, to: read.from, index: read.index)
    }
  }

  private mutating func releaseRead(context: [UInt8], to requester: PeerID, index: UInt64) {
    if requester == id {
      readStates.append(ReadState(index: index, context: context))
    } else {
      send(to: requester, .readIndexResponse(context: context, index: index))
    }
  }
}
