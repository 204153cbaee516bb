import O3Common
import O3Service
import Raft
import RaftCore

/// Whether this SCM may serve a request that needs the leader, and the refusal when it may not:
/// Ozone's `SCM Server:<id>(<host>) is not the leader. Suggested leader is Server:<host>:<port>.`
/// with the port of the protocol that was called, so a client can go there.
struct SCMLeadership: Sendable {
  let raft: RaftServer
  let stateMachine: SCMRaftStateMachine
  let service: SCMServiceConfiguration

  /// nil when this SCM leads and has applied an entry of its term.
  func refusal(port: (SCMNodeDetails) -> HostAndPort) -> SCMServiceError? {
    guard !raft.isLeaderReady else { return nil }
    let leader = stateMachine.currentLeader.peer
    return notLeader(leader, port: port)
  }

  func notLeader(_ leader: PeerID?, port: (SCMNodeDetails) -> HostAndPort) -> SCMServiceError {
    let local = service.local
    let me = "SCM Server:\(local.nodeID)(\(local.clientAddress.host)) is not the leader."
    if leader == raft.id {
      return SCMServiceError(.scmNotLeader, "SCM Server:\(local.nodeID)(\(local.clientAddress.host)) leads but has not applied its first entry yet; retry.", leader: leader)
    }
    guard let node = leader.flatMap(service.node(withPeerID:)) else {
      return SCMServiceError(.scmNotLeader, "\(me) Could not determine the leader node.")
    }
    let address = RaftGroupHost.dialable(port(node))
    return SCMServiceError(.scmNotLeader, "\(me) Suggested leader is Server:\(address.host):\(address.port).", leader: leader)
  }

  /// Proposes `request` through Raft and waits for its answer as applied here.
  func propose(_ request: SCMRatisRequestProposal) async throws(SCMServiceError) -> [UInt8] {
    let result: Result<[UInt8], RaftServerError> = await withCheckedContinuation { continuation in
      raft.propose(request.bytes) { continuation.resume(returning: $0) }
    }
    switch result {
    case .success(let bytes): return bytes
    case .failure(let error): throw refusal(for: error, port: request.port)
    }
  }

  /// Raft's reason a proposal failed, as a client should see it.
  func refusal(for error: RaftServerError, port: (SCMNodeDetails) -> HostAndPort) -> SCMServiceError {
    switch error {
    case .notLeader(let leader): notLeader(leader, port: port)
    case .leaderNotReady: SCMServiceError(.scmNotLeader, "the leader is not ready yet; retry")
    case .notCommitted: SCMServiceError(.scmNotLeader, "leadership changed before the request committed; retry")
    case .timeout: SCMServiceError(.timeout, "no answer from Raft in time; the request may still take effect")
    case .stopped: SCMServiceError(.scmNotLeader, "this SCM has stopped serving; retry on another SCM")
    case .refused(let reason): SCMServiceError(.internalError, "Raft refused the request: \(reason)")
    }
  }
}

/// A request for Raft, and which protocol's port a NOT_LEADER refusal should name.
struct SCMRatisRequestProposal: Sendable {
  var bytes: [UInt8]
  var port: @Sendable (SCMNodeDetails) -> HostAndPort
}
