import Foundation
import NIOCore
import O3RPC
import Raft
import RaftCore

/// The server side of the admin protocol (`OMAdminProtocol`): roles and leadership transfer.
///
/// Admin calls are rare, so each one runs as a task off the event loop.
final class OMAdminService: Sendable {
  private let reporter: OMStatusReporter
  /// How long a transfer may take before the call fails; the Raft core abandons a transfer
  /// after one election timeout, so a few of them is plenty.
  private let transferTimeout: Duration
  /// How often the leader's status is read while a transfer completes.
  private let transferPollInterval: Duration = .milliseconds(20)

  init(reporter: OMStatusReporter, transferTimeout: Duration) {
    self.reporter = reporter
    self.transferTimeout = transferTimeout
  }

  /// Adds this service's methods to `router`.
  func register(into router: inout RPCRouter) {
    router.register(OMAdminProtocol.rolesMethod) { [self] _, _, responder in
      Task { await Self.answer(responder) { () throws(OMAdminError) in try await self.roles() } }
    }
    router.register(OMAdminProtocol.transferMethod) { [self] payload, _, responder in
      let bytes = Array(payload.readableBytesView)
      Task {
        await Self.answer(responder) { () throws(OMAdminError) in
          try await self.transfer(try OMAdminProtocol.decode(OMTransferRequest.self, from: bytes))
        }
      }
    }
  }

  func roles() async throws(OMAdminError) -> OMNodeStatus {
    guard let status = await reporter.status() else { throw OMAdminError(.unavailable, "the OM is shutting down") }
    return status
  }

  /// Starts the transfer on this leader and returns once the target leads in a newer term.
  func transfer(_ request: OMTransferRequest) async throws(OMAdminError) -> OMTransferResult {
    let status = try await roles()
    guard status.role == .leader else {
      throw OMAdminError(
        .notLeader, "\(status.nodeId) is not the leader; " + (status.leaderId.map { "\($0) is" } ?? "no leader is known yet"))
    }
    let target = try chooseTarget(request, status: status)
    if target.nodeID == status.nodeId {
      return OMTransferResult(previousLeaderId: status.nodeId, leaderId: status.nodeId, term: status.term)
    }
    do {
      try await reporter.raftServer.transferLeadership(to: target.peerID)
    } catch {
      throw OMAdminError(.transferRefused, "Raft refused to hand leadership to \(target.nodeID): \(error)")
    }
    let deadline = ContinuousClock.now + transferTimeout
    while ContinuousClock.now < deadline {
      if let now = await reporter.status(), now.leaderId == target.nodeID, now.term > status.term {
        return OMTransferResult(previousLeaderId: status.nodeId, leaderId: target.nodeID, term: now.term)
      }
      try? await Task.sleep(for: transferPollInterval)
    }
    throw OMAdminError(
      .transferTimedOut,
      "\(target.nodeID) did not take over within \(transferTimeout); check that it runs and is caught up (o3 admin om roles)")
  }

  private func chooseTarget(_ request: OMTransferRequest, status: OMNodeStatus) throws(OMAdminError) -> OMNodeDetails {
    let service = reporter.serviceConfiguration
    if let id = request.targetNodeId {
      guard let node = service.nodes.first(where: { $0.nodeID == id }) else {
        throw OMAdminError(
          .invalidTarget,
          "\(id) is not a node of service \(service.serviceID ?? "(single OM)") (\(service.nodes.map(\.nodeID).joined(separator: ",")))")
      }
      if id != status.nodeId, status.peer(id)?.learner ?? true {
        throw OMAdminError(.invalidTarget, "\(id) is not a voting member of the Raft group and cannot lead")
      }
      return node
    }
    let candidates = status.peers.filter { $0.nodeId != status.nodeId && !$0.learner && $0.recentlyActive }
    guard let best = candidates.max(by: { $0.matchIndex < $1.matchIndex }),
      let node = service.nodes.first(where: { $0.nodeID == best.nodeId })
    else {
      throw OMAdminError(.noEligibleFollower, "no active voting follower can take over from \(status.nodeId)")
    }
    return node
  }

  /// Runs `body` and answers with its JSON result or its error.
  private static func answer(
    _ responder: RPCResponder, _ body: () async throws(OMAdminError) -> some Encodable
  ) async {
    do {
      responder.succeed(bytes: OMAdminProtocol.encode(try await body()))
    } catch {
      responder.fail(RPCRemoteError(code: error.code.rawValue, message: error.message))
    }
  }
}
