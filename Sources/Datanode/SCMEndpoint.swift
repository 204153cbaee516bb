import Foundation
import Logging
import NIOCore
import O3Common
import O3RPC
import O3Service
import SCMProto
import SwiftProtobuf
import Synchronization

/// The datanode's conversation with one SCM (Ozone's EndpointStateMachine): GETVERSION (learn the
/// cluster id, format the volumes), REGISTER (identity and node report), then HEARTBEAT every
/// `hdds.heartbeat.interval`, carrying out the commands in the answers. Until registered it
/// retries every `hdds.heartbeat.initial-interval`. A failed call leaves it where it is for the
/// next tick; a `reregisterCommand` sends it back to GETVERSION.
final class SCMEndpoint: Sendable {
  enum State: String, Sendable {
    case getVersion = "GETVERSION"
    case register = "REGISTER"
    case heartbeat = "HEARTBEAT"
  }

  struct Snapshot: Sendable {
    var state: State
    var heartbeatsSent: Int
    var missed: Int
    var lastProblem: String?
  }

  let address: HostAndPort
  private let datanode: DatanodeContext
  private let group: any EventLoopGroup
  private let logger: Logger
  private let status = Mutex(Snapshot(state: .getVersion, heartbeatsSent: 0, missed: 0, lastProblem: nil))
  private let connection = Mutex<RPCClient?>(nil)

  init(address: HostAndPort, datanode: DatanodeContext, group: any EventLoopGroup, logger: Logger) {
    self.address = address
    self.datanode = datanode
    self.group = group
    self.logger = logger
  }

  var snapshot: Snapshot { status.withLock { $0 } }

  /// Talks to the SCM until the task is cancelled.
  func run() async {
    while !Task.isCancelled {
      let state = status.withLock { $0.state }
      do {
        let next = try await step(state)
        status.withLock {
          $0.state = next
          $0.missed = 0
          $0.lastProblem = nil
          if state == .heartbeat { $0.heartbeatsSent += 1 }
        }
      } catch {
        await dropConnection()
        let missed = status.withLock { status -> Int in
          status.missed += 1
          status.lastProblem = "\(error)"
          return status.missed
        }
        if missed % 10 == 1 {
          logger.warning("Unable to communicate to SCM server at \(address) (\(state.rawValue), \(missed) attempts): \(error)")
        }
      }
      let registered = status.withLock { $0.state == .heartbeat }
      try? await Task.sleep(for: registered ? datanode.settings.heartbeatInterval : datanode.settings.initialHeartbeatInterval)
    }
    await dropConnection()
  }

  /// One call of `state`; returns the state to be in next.
  private func step(_ state: State) async throws -> State {
    var request = SCMDatanodeRequest()
    switch state {
    case .getVersion:
      request.cmdType = .getVersion
      let response = try await call(request)
      let keys = Dictionary(response.getVersionResponse.keys.map { ($0.key, $0.value) }) { first, _ in first }
      guard let clusterID = keys["clusterID"], !clusterID.isEmpty else {
        throw DatanodeError("SCM at \(address) sent no clusterID in its version answer")
      }
      try await datanode.joinCluster(clusterID)
      return .register
    case .register:
      request.cmdType = .register
      request.registerRequest.datanodeDetails = datanode.details()
      request.registerRequest.nodeReport = datanode.nodeReport()
      let response = try await call(request)
      guard response.success, response.registerResponse.errorCode == .success else {
        throw DatanodeError("SCM at \(address) refused the registration: \(response.message)")
      }
      logger.info("registered with SCM", metadata: ["scm": "\(address)", "address": "\(response.registerResponse.ipAddress)"])
      return .heartbeat
    case .heartbeat:
      request.cmdType = .sendHeartbeat
      request.sendHeartbeatRequest.datanodeDetails = datanode.details()
      request.sendHeartbeatRequest.nodeReport = datanode.nodeReport()
      let response = try await call(request)
      let answer = response.sendHeartbeatResponse
      guard answer.datanodeUuid.lowercased() == datanode.identity.uuid.lowercased() else {
        throw DatanodeError("Unexpected datanode ID in the response: \(answer.datanodeUuid)")
      }
      var next = State.heartbeat
      for command in answer.commands {
        switch command.commandType {
        case .reregisterCommand:
          logger.info("SCM at \(address) asks this datanode to register again")
          next = .getVersion
        default:
          logger.warning("ignoring a command this datanode does not carry out yet", metadata: ["command": "\(command.commandType)"])
        }
      }
      return next
    }
  }

  private func call(_ request: SCMDatanodeRequest) async throws -> SCMDatanodeResponse {
    let client: RPCClient
    if let existing = connection.withLock({ $0 }), existing.isActive {
      client = existing
    } else {
      let target = RaftGroupHost.dialable(address)
      client = try await RPCClient.connect(host: target.host, port: target.port, group: group, connectTimeout: .seconds(5))
      connection.withLock { $0 = client }
    }
    let reply = try await client.call(
      method: "scm.datanode.submitRequest", payload: try request.serializedBytes(), deadline: datanode.settings.rpcTimeout)
    let response = try SCMDatanodeResponse(serializedBytes: reply)
    guard response.status == .ok else { throw DatanodeError("SCM at \(address): \(response.status): \(response.message)") }
    return response
  }

  private func dropConnection() async {
    let client = connection.withLock { client -> RPCClient? in
      defer { client = nil }
      return client
    }
    await client?.close()
  }
}
