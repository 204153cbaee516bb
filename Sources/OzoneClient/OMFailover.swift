import OMProto

/// Why one try of a call needs another: an answer that names no result, or no answer at all.
enum OMTryFailure: Sendable, Equatable {
  /// NOT_LEADER; `leaderNodeID` is the answering OM's idea of the leader, nil when it knows none.
  case notLeader(leaderNodeID: String?, message: String)
  /// LEADER_NOT_READY: the OM leads but cannot serve yet; the same OM will, soon.
  case leaderNotReady(message: String)
  /// TIMEOUT: the OM's Raft did not answer in time; the request may still take effect.
  case timedOut(message: String)
  /// No connection could be made, so the request was not sent.
  case unreachable(message: String)
  /// The request may have reached the OM but no answer came (connection closed, deadline passed).
  case noReply(message: String)

  /// The failure a response stands for, or nil when the response is the call's result.
  init?(_ response: OMResponse) {
    switch response.status {
    case .notLeader:
      self = .notLeader(
        leaderNodeID: response.leaderOmnodeID.isEmpty ? nil : response.leaderOmnodeID, message: response.message)
    case .leaderNotReady: self = .leaderNotReady(message: response.message)
    case .timeout: self = .timedOut(message: response.message)
    default: return nil
    }
  }

  /// One line for the error that ends a call: what this OM answered.
  var summary: String {
    switch self {
    case .notLeader(_, let message): "NOT_LEADER \(message)"
    case .leaderNotReady(let message): "LEADER_NOT_READY \(message)"
    case .timedOut(let message): "TIMEOUT \(message)"
    case .unreachable(let message): "unreachable: \(message)"
    case .noReply(let message): "no reply: \(message)"
    }
  }
}

/// What a call does after a failed try.
enum OMFailoverDecision: Sendable, Equatable {
  /// Wait, then try the node at `nodeIndex` (the same node or another).
  case retry(nodeIndex: Int, waitMilliseconds: Int64)
  /// `OMFailoverPolicy.maxAttempts` retries are spent.
  case giveUp
}

/// The failover of one call, as Ozone's `OMFailoverProxyProviderBase` does it: a pure state
/// machine (failures in, decisions out) so that its rules are tested without sockets or clocks.
///
/// * NOT_LEADER naming a configured node other than the one asked: go straight to that node.
/// * Any other NOT_LEADER, TIMEOUT, no connection, no reply: the next node, round-robin.
/// * LEADER_NOT_READY: the same node again after `wait × n` (n counts the tries on that node in a
///   row, up to `sameNodeBackoffStepsMax`).
/// * Moving to a node not yet tried in this round costs no wait; moving to one already tried
///   waits `waitBetweenRetriesMilliseconds` and starts a new round. With round-robin that is
///   Ozone's "wait once every OM was tried"; unlike Ozone it also applies to a hint naming a node
///   tried in this round, so two OMs naming each other during an election are not called in a
///   tight loop.
///
/// Ozone also checks that the hinted address equals the configured one; we trust the node id
/// and call the configured address, since the server may name itself by its bind address.
struct OMFailover: Sendable {
  /// One node's part in the call, for the error that names every OM tried.
  struct NodeRecord: Sendable, Equatable {
    var tries = 0
    var lastAnswer = ""
  }

  /// A server's message is cut to this many characters in the final error, so that an error
  /// naming every OM stays readable and bounded.
  static let answerCharactersMax = 300

  let policy: OMFailoverPolicy
  let nodeIDs: [String]
  private(set) var nodeIndex: Int
  private(set) var retries = 0
  private(set) var records: [NodeRecord]
  private var triedThisRound: Set<Int> = []
  private var sameNodeSteps = 0

  init(policy: OMFailoverPolicy, nodeIDs: [String], startingAt nodeIndex: Int) {
    precondition(!nodeIDs.isEmpty, "a call needs at least one OM")
    precondition(nodeIDs.indices.contains(nodeIndex), "the first OM is one of the nodes")
    self.policy = policy
    self.nodeIDs = nodeIDs
    self.nodeIndex = nodeIndex
    self.records = Array(repeating: NodeRecord(), count: nodeIDs.count)
  }

  /// The total number of tries so far, the first included.
  var tries: Int { records.reduce(0) { $0 + $1.tries } }

  /// Records the failed try on the current node and decides the next step.
  mutating func decide(after failure: OMTryFailure) -> OMFailoverDecision {
    records[nodeIndex].tries += 1
    records[nodeIndex].lastAnswer = String(failure.summary.prefix(Self.answerCharactersMax))
    triedThisRound.insert(nodeIndex)
    guard retries < policy.maxAttempts else { return .giveUp }
    retries += 1
    let waitMilliseconds: Int64
    switch failure {
    case .leaderNotReady:
      // Ozone starts a new round here: the OMs tried before this one are worth trying again.
      triedThisRound.removeAll()
      sameNodeSteps += 1
      waitMilliseconds = policy.waitBetweenRetriesMilliseconds * Int64(min(sameNodeSteps, policy.sameNodeBackoffStepsMax))
    case .notLeader(let leader?, _):
      if let hinted = nodeIDs.firstIndex(of: leader), hinted != nodeIndex {
        waitMilliseconds = move(to: hinted)
      } else {
        waitMilliseconds = move(to: (nodeIndex + 1) % nodeIDs.count)
      }
    case .notLeader(nil, _), .timedOut, .unreachable, .noReply:
      waitMilliseconds = move(to: (nodeIndex + 1) % nodeIDs.count)
    }
    return .retry(nodeIndex: nodeIndex, waitMilliseconds: waitMilliseconds)
  }

  private mutating func move(to target: Int) -> Int64 {
    sameNodeSteps = 0
    nodeIndex = target
    guard triedThisRound.contains(target) else { return 0 }
    triedThisRound.removeAll()
    return policy.waitBetweenRetriesMilliseconds
  }
}
