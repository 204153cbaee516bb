import Foundation
import Raft

/// Hands leadership from this leader to another voter (`om.admin.transfer`, and before the
/// leader is decommissioned) and waits until that voter leads in a newer term.
struct OMLeadershipTransfer: Sendable {
  let reporter: OMStatusReporter
  /// How long a transfer may take before the call fails; the Raft core abandons a transfer
  /// after one election timeout, so a few of them is plenty.
  let timeout: Duration
  /// How often the leader's status is read while a transfer completes.
  let pollInterval: Duration = .milliseconds(20)

  /// Starts the transfer on this leader and returns once the target leads in a newer term.
  func run(_ request: OMTransferRequest) async throws(OMAdminError) -> OMTransferResult {
    guard let status = await reporter.status() else { throw OMAdminError(.unavailable, "the OM is shutting down") }
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
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
      if let now = await reporter.status(), now.leaderId == target.nodeID, now.term > status.term {
        return OMTransferResult(previousLeaderId: status.nodeId, leaderId: target.nodeID, term: now.term)
      }
      try? await Task.sleep(for: pollInterval)
    }
    throw OMAdminError(
      .transferTimedOut,
      "\(target.nodeID) did not take over within \(timeout); check that it runs and is caught up (o3 admin om roles)")
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
}
