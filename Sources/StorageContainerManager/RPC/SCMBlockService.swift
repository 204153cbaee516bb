import Foundation
import NIOCore
import O3RPC
import SCMProto
import SwiftProtobuf

/// The block protocol the OM calls (Ozone's ScmBlockLocationProtocol, port 9863), over O3RPC: one
/// method, `scm.block.submitRequest`, carrying an `SCMBlockLocationRequest` and answered with an
/// `SCMBlockLocationResponse`. Refusals are answers with Ozone's status (`success` false), as in
/// Ozone; only a payload that is not this protocol at all gets an RPC-level error.
///
/// Every request needs the leader (Ozone's `checkLeader`): a follower answers `SCM_NOT_LEADER`
/// naming the leader's block address.
final class SCMBlockService: Sendable {
  static let submitMethod = "scm.block.submitRequest"

  private let leadership: SCMLeadership
  private let identity: SCMIdentity
  private let safeMode: SCMSafeMode
  private let containerSizeBytes: UInt64

  init(leadership: SCMLeadership, identity: SCMIdentity, safeMode: SCMSafeMode, containerSizeBytes: UInt64) {
    self.leadership = leadership
    self.identity = identity
    self.safeMode = safeMode
    self.containerSizeBytes = containerSizeBytes
  }

  func register(into router: inout RPCRouter) {
    router.registerProtobuf(Self.submitMethod, describing: "an SCM block request") { [self] (request: SCMBlockLocationRequest, _) in
      await self.answer(request)
    }
  }

  func answer(_ request: SCMBlockLocationRequest) async -> SCMBlockLocationResponse {
    var response = SCMBlockLocationResponse()
    response.cmdType = request.cmdType
    response.traceID = request.traceID
    do throws(SCMServiceError) {
      switch request.cmdType {
      case .getScmInfo:
        try checkLeader()
        response.getScmInfoResponse.clusterID = identity.clusterID
        response.getScmInfoResponse.scmID = identity.scmID
      case .allocateScmBlock:
        try checkLeader()
        response.allocateScmBlockResponse = try allocate(request.allocateScmBlockRequest)
      case .deleteScmKeyBlocks:
        throw SCMServiceError(.unsupportedOperation, "DeleteScmKeyBlocks is not served yet")
      case .unspecified, .UNRECOGNIZED:
        throw SCMServiceError(.unsupportedOperation, "the request names no command this SCM knows (cmdType \(request.cmdType.rawValue))")
      }
      response.success = true
      response.status = .ok
    } catch {
      response.success = false
      response.status = error.status
      response.message = error.message
      if let leader = error.leader, let node = leadership.service.node(withPeerID: leader), error.status == .scmNotLeader {
        response.leaderScmnodeID = node.nodeID
        response.leaderAddress = "\(node.blockAddress)"
      }
    }
    return response
  }

  private func checkLeader() throws(SCMServiceError) {
    if let refusal = leadership.refusal(port: \.blockAddress) { throw refusal }
  }

  /// Ozone's BlockManagerImpl.allocateBlock: refused in safe mode, then checked.
  private func allocate(_ request: SCMAllocateScmBlockRequest) throws(SCMServiceError) -> SCMAllocateScmBlockResponse {
    if let reason = safeMode.refusal { throw SCMServiceError(.safeModeException, "SafeModePrecheck failed for allocateBlock: \(reason)") }
    guard request.size > 0 && request.size <= containerSizeBytes else {
      throw SCMServiceError(.invalidBlockSize, "Unsupported block size: \(request.size)")
    }
    guard request.numBlocks > 0 else { throw SCMServiceError(.failedToAllocateEnoughBlocks, "Allocated 0 blocks. Requested 0 blocks") }
    throw SCMServiceError(.failedToFindActivePipeline, "no open pipeline can take a block yet")
  }
}

/// This SCM's cluster and own id, from its VERSION file.
struct SCMIdentity: Sendable {
  var clusterID: String
  var scmID: String
}
