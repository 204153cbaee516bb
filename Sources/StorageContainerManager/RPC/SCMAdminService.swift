import Foundation
import NIOCore
import O3RPC
import O3Service
import Raft
import RaftCore
import SCMProto
import SwiftProtobuf

/// The admin protocol (`o3 admin scm …`; Ozone's StorageContainerLocationProtocol, port 9860), over
/// O3RPC: one method, `scm.admin.submitRequest`, carrying an `SCMAdminRequest` and answered with an
/// `SCMAdminResponse`. As in Ozone, it needs the leader, except the safe-mode status, which any SCM
/// answers; a follower answers `SCM_NOT_LEADER` with the leader's client address.
final class SCMAdminService: Sendable {
  static let submitMethod = "scm.admin.submitRequest"

  private let leadership: SCMLeadership
  private let identity: SCMIdentity
  private let nodes: SCMNodeManager
  private let safeMode: SCMSafeMode
  /// Ports this SCM bound (its configured Raft port may be 0 in tests).
  private let boundRaftPort: Int

  init(leadership: SCMLeadership, identity: SCMIdentity, nodes: SCMNodeManager, safeMode: SCMSafeMode, boundRaftPort: Int) {
    self.leadership = leadership
    self.identity = identity
    self.nodes = nodes
    self.safeMode = safeMode
    self.boundRaftPort = boundRaftPort
  }

  func register(into router: inout RPCRouter) {
    router.registerProtobuf(Self.submitMethod, describing: "an SCM admin request") { [self] (request: SCMAdminRequest, _) in
      await self.answer(request)
    }
  }

  func answer(_ request: SCMAdminRequest) async -> SCMAdminResponse {
    var response = SCMAdminResponse()
    response.cmdType = request.cmdType
    response.traceID = request.traceID
    do throws(SCMServiceError) {
      switch request.cmdType {
      case .adminGetScmInfo:
        if let refusal = leadership.refusal(port: \.clientAddress) { throw refusal }
        response.getScmInfoResponse.clusterID = identity.clusterID
        response.getScmInfoResponse.scmID = identity.scmID
        response.getScmInfoResponse.peerRoles = await peerRoles()
      case .adminQueryNode:
        if let refusal = leadership.refusal(port: \.clientAddress) { throw refusal }
        response.queryNodeResponse.datanodes = queryNodes(request.queryNodeRequest)
      case .adminInSafeMode, .adminGetSafeModeRuleStatuses:
        response.safeModeStatus.inSafeMode = safeMode.inSafeMode
        response.safeModeStatus.rules = safeMode.rules.map { rule in
          var status = SCMSafeModeRuleStatus()
          status.ruleName = rule.name
          status.validate = rule.validated
          status.statusText = rule.text
          return status
        }
      case .unspecified, .UNRECOGNIZED:
        throw SCMServiceError(.unsupportedOperation, "the request names no command this SCM knows (cmdType \(request.cmdType.rawValue))")
      }
      response.success = true
      response.status = .ok
    } catch {
      response.success = false
      response.status = error.status
      response.message = error.message
      if error.status == .scmNotLeader, let leader = error.leader, let node = leadership.service.node(withPeerID: leader) {
        response.leaderScmnodeID = node.nodeID
        response.leaderAddress = "\(RaftGroupHost.dialable(node.clientAddress))"
      }
    }
    return response
  }

  /// Every datanode, or those in the state asked for.
  private func queryNodes(_ query: SCMQueryNodeRequest) -> [SCMNodeInfo] {
    nodes.allNodes().filter { query.state == .unspecified || $0.node.state == query.state }.map { entry in
      var info = SCMNodeInfo()
      info.datanodeDetails = entry.node.details
      info.nodeState = entry.node.state
      info.opState = .inService
      info.storageReports = entry.node.report.storageReport
      info.millisecondsSinceLastHeartbeat = entry.millisecondsSinceHeartbeat
      return info
    }
  }

  /// Ozone's `host:ratisPort:ROLE:id:ip`, one per voter: LEADER for the leader, FOLLOWER for the
  /// others. The id is the node id, from which O3 derives Raft peer ids (Ozone prints scmUuid).
  private func peerRoles() async -> [String] {
    guard let status = await leadership.raft.status() else { return [] }
    let service = leadership.service
    return status.core.membership.voters.sorted().compactMap { peer in
      guard let node = service.node(withPeerID: peer) else { return nil }
      let role = status.core.leader == peer ? "LEADER" : "FOLLOWER"
      let port = node.nodeID == service.localNodeID && node.raftAddress.port == 0 ? boundRaftPort : node.raftAddress.port
      let host = RaftGroupHost.dialable(node.raftAddress).host
      return "\(host):\(port):\(role):\(node.nodeID):\(host)"
    }
  }
}
