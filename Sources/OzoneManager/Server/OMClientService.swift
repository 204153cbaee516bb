import Foundation
import NIOCore
import O3RPC
import OMDomain
import OMMetadata
import OMProto
import Raft
import RaftCore
import SwiftProtobuf

/// The OM client protocol over O3RPC: one method, `om.submitRequest`, carrying an `OMRequest`
/// and answered with an `OMResponse`. Every refusal is an `OMResponse` with a status; only a
/// call that is not this protocol at all (unknown method) gets an RPC-level error.
///
/// Writes follow DESIGN.md §3: leader check, retry cache, preExecute, propose to Raft, and the
/// answer once the entry is committed and applied here. Reads are linearizable: a ReadIndex
/// round (or the lease) on the leader, answered once the apply has reached the read index.
final class OMClientService: RPCServiceHandler {
  static let submitMethod = "om.submitRequest"

  private let raft: RaftServer
  private let service: OMServiceConfiguration
  private let stateMachine: OMRaftStateMachine
  private let retryCache: RetryCache
  private let limits: OMRequestLimits
  private let clock: @Sendable () -> UInt64
  private let metrics: OMMetrics
  private let requestIDs = RequestIDGenerator()

  init(
    raft: RaftServer, service: OMServiceConfiguration, stateMachine: OMRaftStateMachine, retryCache: RetryCache,
    limits: OMRequestLimits, clock: @escaping @Sendable () -> UInt64, metrics: OMMetrics
  ) {
    self.metrics = metrics
    self.raft = raft
    self.service = service
    self.stateMachine = stateMachine
    self.retryCache = retryCache
    self.limits = limits
    self.clock = clock
  }

  func handle(method: String, payload: ByteBuffer, context: RPCCallContext, responder: RPCResponder) {
    guard method == Self.submitMethod else {
      responder.fail(.unknownMethod(method))
      return
    }
    let request: OMRequest
    do {
      request = try OMRequest(serializedBytes: Array(payload.readableBytesView))
    } catch {
      respond(.failure(.unspecified, OMException(.invalidRequest, "the payload is not an OMRequest: \(error)")), responder)
      return
    }
    do {
      try OMRequestRouter.checkEnvelope(request)
    } catch {
      respond(.failure(request.cmdType, error), responder)
      return
    }
    if OMRequestRouter.isLocal(request.cmdType) {
      respond(PrepareRequests.status(stateMachine.prepareState), responder)
      return
    }
    let isWrite = OMRequestRouter.isWrite(request.cmdType)
    // A follower may answer a read the client allowed it to: the ReadIndex round with the
    // leader keeps it linearizable (thesis §6.4); writes and other reads need the leader.
    let followerMayServe = !isWrite && request.readConsistencyHint == .linearizableAllowFollower
    if !followerMayServe, let refusal = leaderRefusal(request.cmdType) {
      respond(refusal, responder)
    } else if isWrite && stateMachine.prepareState.refusesBeforeLogging(request.cmdType) {
      respond(stateMachine.prepareState.refusal(request.cmdType), responder)
    } else if isWrite {
      submitWrite(request, responder: responder)
    } else {
      serveRead(request, responder: responder)
    }
  }

  /// NOT_LEADER (with the leader's node id and address when known) or LEADER_NOT_READY, or nil
  /// when this OM leads and has applied an entry of its term.
  private func leaderRefusal(_ cmdType: CommandType) -> OMResponse? {
    guard !raft.isLeaderReady else { return nil }
    let (leader, _) = stateMachine.currentLeader
    if leader == raft.id {
      return .failure(cmdType, OMException(.leaderNotReady, "OM \(service.localNodeID) leads but has not applied its first entry yet; retry"))
    }
    return notLeader(cmdType, leader: leader)
  }

  private func notLeader(_ cmdType: CommandType, leader: PeerID?) -> OMResponse {
    let node = leader.flatMap(service.node(withPeerID:))
    var response = OMResponse.failure(
      cmdType,
      OMException(.notLeader, "OM \(service.localNodeID) is not the leader" + (node.map { "; \($0.nodeID) is" } ?? "; no leader is known")))
    response.leaderOmnodeID = node?.nodeID ?? ""
    response.leaderAddress = node.map { "\($0.clientAddress)" } ?? ""
    return response
  }

  private func submitWrite(_ request: OMRequest, responder: RPCResponder) {
    let key = RetryCache.Key(clientID: request.clientID, callID: request.callID)
    let cacheable = !request.clientID.isEmpty
    if cacheable, retryCache.admit(key, respond: { [self] in respond($0, responder) }) == .answered { return }
    let context = PreExecuteContext(
      nowMilliseconds: clock(), userName: request.userInfo.userName.isEmpty ? "anonymous" : request.userInfo.userName,
      randomID: { [requestIDs] in requestIDs.next() })
    let prepared: OMRequest
    let bytes: [UInt8]
    do {
      prepared = try OMRequestRouter.preExecute(request, context: context, limits: limits)
      bytes = try prepared.serializedBytes()
    } catch {
      let refusal = OMResponse.failure(request.cmdType, (error as? OMException) ?? OMException(.internalError, "\(error)"))
      if cacheable { retryCache.finishProposal(key, failedWith: refusal) }
      respond(refusal, responder)
      return
    }
    let cmdType = request.cmdType
    // Ozone's prepare gate: writes proposed from now on are refused before they reach the log.
    if cmdType == .prepare { stateMachine.prepareState.enableGate() }
    raft.propose(bytes) { [self] result in
      switch result {
      case .success(let replyBytes):
        // The state machine's bytes go out as they are; only the metrics read their status.
        guard let status = OMResponse.status(inSerialized: replyBytes) else {
          respond(.failure(cmdType, OMException(.internalError, "the state machine's answer does not decode")), responder)
          return
        }
        metrics.requestCompleted(type: cmdType, status: status)
        responder.succeed(bytes: replyBytes)
      case .failure(let error):
        if cmdType == .prepare { stateMachine.prepareState.abandonGate() }
        let refusal = self.response(for: error, cmdType)
        if cacheable { retryCache.finishProposal(key, failedWith: refusal) }
        respond(refusal, responder)
      }
    }
  }

  private func serveRead(_ request: OMRequest, responder: RPCResponder) {
    let cmdType = request.cmdType
    let bytes: [UInt8]
    do {
      bytes = try request.serializedBytes()
    } catch {
      respond(.failure(cmdType, OMException(.invalidRequest, "\(error)")), responder)
      return
    }
    raft.query(bytes) { [self] result in
      switch result {
      case .success(let replyBytes):
        let response = (try? OMResponse(serializedBytes: replyBytes))
          ?? .failure(cmdType, OMException(.internalError, "the read's answer does not decode"))
        respond(response, responder)
      case .failure(let error):
        respond(self.response(for: error, cmdType), responder)
      }
    }
  }

  private func response(for error: RaftServerError, _ cmdType: CommandType) -> OMResponse {
    switch error {
    case .notLeader(let leader): notLeader(cmdType, leader: leader)
    case .leaderNotReady: .failure(cmdType, OMException(.leaderNotReady, "the leader is not ready yet; retry"))
    case .notCommitted: .failure(cmdType, OMException(.notLeader, "leadership changed before the request committed; retry"))
    case .timeout: .failure(cmdType, OMException(.timeout, "no answer from Raft in time; the request may still take effect"))
    // The write may still commit under the next leader: the client must fail over and retry
    // with the same call id (the retry cache then gives the real answer), not give up.
    case .stopped: .failure(cmdType, OMException(.notLeader, "this OM has stopped serving (shutting down or its Raft stopped); retry on another OM"))
    case .refused(let reason): .failure(cmdType, OMException(.internalError, "Raft refused the request: \(reason)"))
    }
  }

  private func respond(_ response: OMResponse, _ responder: RPCResponder) {
    metrics.requestCompleted(type: response.cmdType, status: response.status)
    // A response we built ourselves always serializes.
    responder.succeed(bytes: try! response.serializedBytes())
  }
}
