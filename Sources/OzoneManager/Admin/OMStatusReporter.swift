import O3Common
import OMMetadata
import Raft
import RaftCore
import Synchronization

/// Turns the Raft peer's status into an `OMNodeStatus` in the service's own terms (node ids,
/// configured addresses), for the admin RPC, the status page and `/prom`.
final class OMStatusReporter: Sendable {
  private let raft: RaftServer
  private let service: OMServiceConfiguration
  private let doubleBuffer: OMDoubleBuffer
  /// The addresses actually bound: they differ from the configured ones when those name port 0.
  private let addresses: Mutex<(client: HostAndPort, raft: HostAndPort, http: HostAndPort)>
  /// The checkpoint install under way, if any.
  private let checkpointInstall: @Sendable () -> OMCheckpointInstallProgress?

  init(
    raft: RaftServer, service: OMServiceConfiguration, doubleBuffer: OMDoubleBuffer, httpAddress: HostAndPort,
    checkpointInstall: @escaping @Sendable () -> OMCheckpointInstallProgress? = { nil }
  ) {
    self.checkpointInstall = checkpointInstall
    self.raft = raft
    self.service = service
    self.doubleBuffer = doubleBuffer
    addresses = Mutex((service.local.clientAddress, service.local.raftAddress, httpAddress))
  }

  /// Records the ports the servers bound, once they have.
  func setBoundPorts(client: Int, raft: Int, http: Int) {
    addresses.withLock {
      $0.client.port = client
      $0.raft.port = raft
      $0.http.port = http
    }
  }

  var serviceConfiguration: OMServiceConfiguration { service }
  var raftServer: RaftServer { raft }

  /// This OM's status; nil once Raft has stopped.
  func status() async -> OMNodeStatus? {
    guard let status = await raft.status() else { return nil }
    let core = status.core
    let addresses = self.addresses.withLock { $0 }
    return OMNodeStatus(
      nodeId: service.localNodeID, serviceId: service.serviceID,
      role: Self.role(core.role, learner: core.membership.isLearner(core.id)), term: core.hardState.term,
      leaderId: core.leader.map(nodeID), leaderReady: status.isLeaderReady, commitIndex: core.hardState.commit,
      appliedIndex: status.applied.index, lastIndex: core.lastIndex, flushedIndex: doubleBuffer.flushedTermIndex.index,
      clientAddress: "\(addresses.client)", raftAddress: "\(addresses.raft)", httpAddress: "\(addresses.http)",
      transferTargetId: core.transferTarget.map(nodeID), checkpointInstall: checkpointInstall(),
      peers: core.progress.map { progress in
        OMPeerStatus(
          nodeId: nodeID(progress.peer), matchIndex: progress.match,
          lag: core.lastIndex > progress.match ? core.lastIndex - progress.match : 0, state: progress.state.rawValue,
          recentlyActive: progress.recentlyActive || progress.peer == core.id, learner: progress.isLearner,
          clientAddress: clientAddress(of: progress.peer, local: core.id, bound: addresses.client))
      }.sorted { $0.nodeId < $1.nodeId })
  }

  /// Where a member serves clients, as a client dials it: this OM's bound address for itself,
  /// else the address book's; nil for a member the address book lacks.
  private func clientAddress(of peer: PeerID, local: PeerID, bound: HostAndPort) -> String? {
    if peer == local { return "\(bound)" }
    return service.node(withPeerID: peer).map { "\(OMAdminClient.dialable($0.clientAddress))" }
  }

  /// The node id of a Raft peer; a peer the configuration does not list (one that joined
  /// after this OM read its configuration) shows as `peer-<number>`.
  func nodeID(_ peer: PeerID) -> String {
    service.node(withPeerID: peer)?.nodeID ?? "peer-\(peer.rawValue)"
  }

  private static func role(_ role: RaftRole, learner: Bool) -> OMNodeStatus.Role {
    if learner { return .listener }
    switch role {
    case .leader: return .leader
    case .follower: return .follower
    case .preCandidate, .candidate: return .candidate
    }
  }
}
