import RaftCore

/// Everything that can happen in a simulated run; the event queue orders them in virtual time.
enum SimulationEvent {
  /// A node's logical clock advances (only while its incarnation is the one scheduled).
  case tick(node: Int, incarnation: UInt64)
  case deliver(RaftMessage)
  /// The fsync a node started for its outstanding Ready has finished.
  case fsyncDone(node: Int, incarnation: UInt64)
  case restart(node: Int)
  case resume(node: Int)
  /// The partition with this generation ends (unless a newer one replaced it).
  case heal(generation: UInt64)
  /// Time to choose the next fault.
  case fault
  /// A node's out-of-band checkpoint download from `source` has finished.
  case snapshotFetched(node: Int, incarnation: UInt64, source: Int)
  case clientRequest(node: Int, ClientRequest)
  case clientReply(client: Int, ClientReply)
  case clientTimeout(client: Int, operationID: UInt64)
  case clientStart(client: Int)
  /// The chaos ends: heal a majority and demand progress.
  case livenessStart
  /// In the liveness phase: has the cluster converged, or is the bound passed?
  case livenessCheck
}

extension SimulationEvent {
  /// Feeds the numbers that identify this event into the trace hash.
  func feed(into hash: inout TraceHash) {
    switch self {
    case .tick(let node, let incarnation): hash.combine(1, UInt64(node), incarnation)
    case .deliver(let message):
      hash.combine(2, message.from.rawValue, message.to.rawValue, message.term)
      message.body.feed(into: &hash)
    case .fsyncDone(let node, let incarnation): hash.combine(3, UInt64(node), incarnation)
    case .restart(let node): hash.combine(4, UInt64(node))
    case .resume(let node): hash.combine(5, UInt64(node))
    case .heal(let generation): hash.combine(6, generation)
    case .fault: hash.combine(7)
    case .snapshotFetched(let node, let incarnation, let source):
      hash.combine(8, UInt64(node), incarnation, UInt64(source))
    case .clientRequest(let node, let request):
      hash.combine(9, UInt64(node), request.command.clientID, request.command.operationID)
      hash.combine(UInt64(request.attempt))
    case .clientReply(let client, let reply):
      hash.combine(10, UInt64(client), reply.operationID, UInt64(reply.attempt))
    case .clientTimeout(let client, let operationID): hash.combine(11, UInt64(client), operationID)
    case .clientStart(let client): hash.combine(12, UInt64(client))
    case .livenessStart: hash.combine(13)
    case .livenessCheck: hash.combine(14)
    }
  }
}

extension RaftMessage.Body {
  fileprivate func feed(into hash: inout TraceHash) {
    switch self {
    case .preVote(let last): hash.combine(1, last.term, last.index)
    case .preVoteResponse(let granted): hash.combine(2, granted ? 1 : 0)
    case .vote(let last, _): hash.combine(3, last.term, last.index)
    case .voteResponse(let granted): hash.combine(4, granted ? 1 : 0)
    case .append(let request):
      hash.combine(5, UInt64(request.entries.count), request.previous.index, request.commit)
    case .appendResponse(let response):
      hash.combine(6, response.rejected ? 1 : 0, response.index)
    case .heartbeat(let commit, let round): hash.combine(7, commit, round)
    case .heartbeatResponse(let round): hash.combine(8, round)
    case .snapshotNotice(let request): hash.combine(9, request.leaderSnapshot.index)
    case .snapshotStatus: hash.combine(10)
    case .timeoutNow: hash.combine(11)
    case .readIndex: hash.combine(12)
    case .readIndexResponse(_, let index): hash.combine(13, index)
    case .transferLeader(let target): hash.combine(14, target.rawValue)
    }
  }
}

extension TraceHash {
  fileprivate mutating func combine(_ first: UInt64, _ rest: UInt64...) {
    combine(first)
    for number in rest { combine(number) }
  }
}

/// A client's request as it arrives at a node.
struct ClientRequest: Sendable {
  var command: ClientCommand
  /// Which try of the operation this is; answers to an earlier try are ignored.
  var attempt: Int
  /// Whether a get goes through ReadIndex (true) or through the log as an entry (false).
  var readThroughReadIndex: Bool
}

/// A node's answer to a client.
struct ClientReply: Sendable {
  enum Outcome: Sendable {
    /// The operation took effect with this output.
    case result(KeyValueOutput)
    /// The operation certainly did not take effect (not leader, refused, or its entry lost its
    /// place in the log); `leaderHint` is where to try next.
    case refused(leaderHint: PeerID?)
  }

  var operationID: UInt64
  var attempt: Int
  var outcome: Outcome
}
