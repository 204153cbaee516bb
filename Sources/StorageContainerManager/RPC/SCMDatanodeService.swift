import Foundation
import NIOCore
import O3RPC
import SCMProto
import SwiftProtobuf

/// The datanode protocol (Ozone's StorageContainerDatanodeProtocol, port 9861), over O3RPC: one
/// method, `scm.datanode.submitRequest`, carrying an `SCMDatanodeRequest` (GetVersion, Register,
/// SendHeartbeat) and answered with an `SCMDatanodeResponse`.
///
/// Every SCM of the service serves it, leader or not, as in Ozone: datanodes heartbeat to all
/// SCMs so that a new leader already knows the cluster. (Commands in the answers come only from
/// the leader, once there are commands to send.)
final class SCMDatanodeService: Sendable {
  static let submitMethod = "scm.datanode.submitRequest"
  /// What `GetVersion` reports as SCM's software version.
  static let softwareVersion: UInt32 = 1

  private let nodes: SCMNodeManager
  private let identity: SCMIdentity

  init(nodes: SCMNodeManager, identity: SCMIdentity) {
    self.nodes = nodes
    self.identity = identity
  }

  func register(into router: inout RPCRouter) {
    router.registerProtobuf(Self.submitMethod, describing: "an SCM datanode request") { [self] (request: SCMDatanodeRequest, context) in
      self.answer(request, peerAddress: context.remoteAddress?.ipAddress)
    }
  }

  func answer(_ request: SCMDatanodeRequest, peerAddress: String?) -> SCMDatanodeResponse {
    var response = SCMDatanodeResponse()
    response.cmdType = request.cmdType
    response.traceID = request.traceID
    response.success = true
    response.status = .ok
    switch request.cmdType {
    case .getVersion:
      response.getVersionResponse.softwareVersion = Self.softwareVersion
      response.getVersionResponse.keys = [("scmUuid", identity.scmID), ("clusterID", identity.clusterID)].map { key, value in
        var pair = SCMKeyValue()
        pair.key = key
        pair.value = value
        return pair
      }
    case .register:
      let (registered, refusal) = nodes.register(request.registerRequest, peerAddress: peerAddress)
      response.registerResponse = registered
      if let refusal {
        response.success = false
        response.message = refusal
      }
    case .sendHeartbeat:
      response.sendHeartbeatResponse = nodes.heartbeat(request.sendHeartbeatRequest)
    case .unspecified, .UNRECOGNIZED:
      response.success = false
      response.status = .unsupportedOperation
      response.message = "the request names no command this SCM knows (cmdType \(request.cmdType.rawValue))"
    }
    return response
  }
}
