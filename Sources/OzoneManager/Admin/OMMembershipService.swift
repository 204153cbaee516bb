import Foundation
import Logging
import O3Common
import O3Service
import Raft
import RaftCore

/// The server side of adding and removing OMs: `om.admin.configuration` on every OM, and on the
/// leader `om.admin.bootstrap` (Ozone's `addOMToRatisRing`) and `om.admin.decommission`
/// (`removeOMFromRatisRing`).
final class OMMembershipService: Sendable {
  /// How far behind the leader's commit index a learner may be when it is promoted: a few
  /// pipelines' worth, so that the new voter is caught up within moments and a failure of an old
  /// voter right after the promotion does not leave the group waiting for it.
  static let catchUpLagMax: UInt64 = 500
  /// Status samples taken to judge which voters are live (see `liveVoters`).
  static let livenessSamples = 3

  private let reporter: OMStatusReporter
  private let reloadConfiguration: @Sendable () throws -> OzoneConfiguration
  private let transfer: @Sendable (OMTransferRequest) async throws(OMAdminError) -> OMTransferResult
  /// About one and a half heartbeat intervals: the spacing of liveness samples.
  private let livenessSampleInterval: Duration
  private let logger: Logger

  init(
    reporter: OMStatusReporter, reloadConfiguration: @escaping @Sendable () throws -> OzoneConfiguration,
    heartbeatInterval: Duration, logger: Logger,
    transfer: @escaping @Sendable (OMTransferRequest) async throws(OMAdminError) -> OMTransferResult
  ) {
    self.reporter = reporter
    self.reloadConfiguration = reloadConfiguration
    self.livenessSampleInterval = heartbeatInterval * 1.5
    self.logger = logger
    self.transfer = transfer
  }

  private var service: OMServiceConfiguration { reporter.serviceConfiguration }
  private var raft: RaftServer { reporter.raftServer }

  /// Re-reads this OM's configuration file, learns the nodes it lists, and returns them.
  func configuration() throws(OMAdminError) -> OMConfigurationReply {
    let reread: OMServiceConfiguration
    do {
      reread = try service.reload(from: reloadConfiguration())
    } catch {
      throw OMAdminError(.configurationError, "\(service.localNodeID) cannot re-read its configuration: \(error)")
    }
    return OMConfigurationReply(
      serviceId: reread.serviceID, nodeId: service.localNodeID, nodes: reread.nodes.map(OMNodeAddresses.init))
  }

  /// One step of adding `request.node`: add it as a learner if it is not a member, promote it
  /// once it has caught up, report where it stands.
  func bootstrap(_ request: OMBootstrapRequest) async throws(OMAdminError) -> OMBootstrapProgress {
    var status = try await leaderStatus()
    let joining = try checkAddresses(of: request.node)
    let peer = joining.peerID
    if !status.core.membership.isMember(peer) {
      do {
        try await raft.addLearner(peer, address: "\(RaftGroupHost.dialable(joining.raftAddress))")
      } catch {
        throw Self.adminError(error, doing: "add \(joining.nodeID) as a learner")
      }
      logger.info("added \(joining.nodeID) as a learner (Raft peer \(peer) at \(joining.raftAddress))")
      status = try await leaderStatus()
    }
    if status.core.membership.isLearner(peer), Self.hasCaughtUp(peer, status.core) {
      do {
        try await raft.promote(peer)
      } catch {
        throw Self.adminError(error, doing: "promote \(joining.nodeID) to voter")
      }
      logger.info("promoted \(joining.nodeID) to voter")
      status = try await leaderStatus()
    }
    let progress = status.core.progress.first { $0.peer == peer }
    return OMBootstrapProgress(
      nodeId: joining.nodeID, phase: status.core.membership.isVoter(peer) ? .voter : .catchingUp,
      leaderId: service.localNodeID, term: status.core.hardState.term, matchIndex: progress?.match ?? 0,
      commitIndex: status.core.hardState.commit, replicationState: progress?.state.rawValue ?? "unknown")
  }

  /// Removes `request.nodeId` from the group, refusing to leave fewer live voters than a
  /// majority of the new group (unless forced). The leader itself is never removed, as in
  /// Ozone (whose leader finds only its peers, not itself, to remove): it hands leadership to
  /// its most up-to-date live follower and answers LEADER_HANDED_OVER naming it, and the
  /// caller asks the new leader.
  func decommission(_ request: OMDecommissionRequest) async throws(OMAdminError) -> OMDecommissionResult {
    let status = try await leaderStatus()
    let peer = OMServiceConfiguration.peerID(of: request.nodeId)
    let membership = status.core.membership
    guard membership.isMember(peer) else {
      throw OMAdminError(
        .notMember, "\(request.nodeId) is not a member of the Raft group (members: \(names(membership.members)))")
    }
    if peer == status.core.id {
      let handedOver = try await transfer(OMTransferRequest(targetNodeId: nil))
      logger.info("asked to remove itself: handed leadership to \(handedOver.leaderId) first")
      throw OMAdminError(
        .leaderHandedOver,
        "\(request.nodeId) led the group and is never removed while it leads: it handed leadership to "
          + "\(handedOver.leaderId) (term \(handedOver.term)); ask \(handedOver.leaderId)")
    }
    if membership.isVoter(peer) && !request.force {
      let remaining = membership.voters.filter { $0 != peer }
      let live = try await liveVoters()
      let liveRemaining = remaining.filter(live.contains)
      let majority = remaining.count / 2 + 1
      guard liveRemaining.count >= majority else {
        throw OMAdminError(
          .quorumAtRisk,
          "removing \(request.nodeId) would leave \(liveRemaining.count) live voters (\(names(liveRemaining))) of "
            + "\(remaining.count), fewer than the majority of \(majority) the group needs to commit; bring the others "
            + "back first (o3 admin om roles), or pass --force to remove it anyway and stop writes until they return")
      }
    }
    do {
      try await raft.remove(peer)
    } catch {
      throw Self.adminError(error, doing: "remove \(request.nodeId)")
    }
    logger.info("removed \(request.nodeId) from the Raft group")
    let after = try await leaderStatus(requireReady: false)
    return OMDecommissionResult(
      nodeId: request.nodeId, leaderId: service.localNodeID, term: after.core.hardState.term,
      voters: after.core.membership.voters.map(reporter.nodeID), learners: after.core.membership.learners.map(reporter.nodeID))
  }

  /// The voters this leader counts as live: itself, and each voter its Raft core marked as
  /// heard from (an append or heartbeat answer) in the current check-quorum period.
  ///
  /// The core clears those marks at the start of every period (one election timeout), so one
  /// sample right after that instant would show every follower silent. Samples are therefore
  /// taken `livenessSamples` times, spaced by one and a half heartbeat intervals, and a voter
  /// heard from in any of them is live. A voter that stopped less than one election timeout
  /// ago may still count as live.
  func liveVoters() async throws(OMAdminError) -> Set<PeerID> {
    var live: Set<PeerID> = []
    for sample in 0..<Self.livenessSamples {
      if sample > 0 { try? await Task.sleep(for: livenessSampleInterval) }
      let status = try await leaderStatus(requireReady: false)
      live.insert(status.core.id)
      for progress in status.core.progress where progress.recentlyActive && !progress.isLearner {
        live.insert(progress.peer)
      }
    }
    return live
  }

  /// Whether the learner `peer` is close enough to the leader's commit index to be promoted:
  /// the leader streams entries to it (not probing, not waiting for a checkpoint install) and
  /// it holds all but `catchUpLagMax` of the committed entries.
  static func hasCaughtUp(_ peer: PeerID, _ status: RaftStatus) -> Bool {
    guard let progress = status.progress.first(where: { $0.peer == peer }), progress.state == .replicate else {
      return false
    }
    return progress.match + catchUpLagMax >= status.hardState.commit
  }

  /// This OM's Raft status, when it leads (and, unless told otherwise, is ready).
  private func leaderStatus(requireReady: Bool = true) async throws(OMAdminError) -> RaftServerStatus {
    guard let status = await raft.status() else { throw OMAdminError(.unavailable, "the OM is shutting down") }
    guard status.core.role == .leader else {
      throw OMAdminError(
        .notLeader,
        "\(service.localNodeID) is not the leader; " + (status.core.leader.map { "\(reporter.nodeID($0)) is" } ?? "no leader is known yet"))
    }
    guard status.isLeaderReady || !requireReady else {
      throw OMAdminError(.membershipChangeRefused, "\(service.localNodeID) leads but is not ready yet; retry")
    }
    return status
  }

  /// The joining node as this leader's re-read configuration lists it; refused when listed at
  /// other endpoints, learned from the request when not listed at all (`o3 om --bootstrap
  /// --force` skipped that check).
  private func checkAddresses(of joining: OMNodeAddresses) throws(OMAdminError) -> OMNodeDetails {
    do {
      try service.reload(from: reloadConfiguration())
    } catch {
      logger.warning("cannot re-read the configuration while \(joining.nodeId) bootstraps: \(error)")
    }
    guard let known = service.node(withID: joining.nodeId) else {
      logger.warning("\(joining.nodeId) is not in this OM's configuration; using the addresses it sent")
      let details = try joining.details()
      service.learn(details)
      return details
    }
    let listed = OMNodeAddresses(known)
    guard listed.sameEndpoints(as: joining) else {
      throw OMAdminError(
        .addressMismatch,
        "\(service.localNodeID)'s configuration lists \(joining.nodeId) at client \(listed.clientAddress), Raft "
          + "\(listed.raftAddress), but it says it is at client \(joining.clientAddress), Raft \(joining.raftAddress)")
    }
    return known
  }

  private func names(_ peers: [PeerID]) -> String {
    peers.isEmpty ? "none" : peers.map(reporter.nodeID).joined(separator: ",")
  }

  /// A Raft refusal as an admin error: NOT_LEADER and UNAVAILABLE as such, anything else a
  /// refusal to retry (a change in progress, a leader not ready, a change that timed out and
  /// may still commit: the next step sees the outcome).
  static func adminError(_ error: RaftServerError, doing what: String) -> OMAdminError {
    switch error {
    case .notLeader: OMAdminError(.notLeader, "cannot \(what): \(error)")
    case .stopped: OMAdminError(.unavailable, "cannot \(what): \(error)")
    default: OMAdminError(.membershipChangeRefused, "cannot \(what) now: \(error); retry")
    }
  }

  /// Learns, by re-reading the configuration, the nodes of a new membership this OM has no
  /// addresses for (a node added while this OM's configuration was not yet re-read). Called on
  /// the apply thread, so the file is read on another task.
  static func learnUnknownMembers(
    _ membership: Membership, service: OMServiceConfiguration,
    reloadConfiguration: @escaping @Sendable () throws -> OzoneConfiguration, logger: Logger
  ) {
    guard membership.members.contains(where: { service.node(withPeerID: $0) == nil }) else { return }
    Task.detached {
      do {
        try service.reload(from: reloadConfiguration())
      } catch {
        logger.warning("a member joined that this OM has no address for, and re-reading the configuration failed: \(error)")
      }
    }
  }
}
