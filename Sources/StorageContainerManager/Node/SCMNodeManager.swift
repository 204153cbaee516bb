import Foundation
import Logging
import O3Common
import SCMProto
import Synchronization

/// The datanodes this SCM knows: who registered, their last heartbeat and node report, and their
/// health (Ozone's SCMNodeManager and NodeStateManager).
///
/// Health follows the time since the last heartbeat: HEALTHY, then STALE after
/// `ozone.scm.stale.node.interval` (Ozone's 5m), DEAD after `ozone.scm.dead.node.interval` (10m),
/// checked every `ozone.scm.heartbeat.thread.interval` (3s). A heartbeat brings a node back to
/// HEALTHY (Ozone passes through HEALTHY_READONLY for a layout check first; O3 has one layout).
/// Like Ozone's, this state lives in memory only: after an SCM restart every datanode is asked to
/// register again by its first heartbeat's answer.
final class SCMNodeManager: Sendable {
  struct Settings: Sendable {
    var staleMilliseconds: Int64
    var deadMilliseconds: Int64
    var checkMilliseconds: Int64

    init(configuration: OzoneConfiguration) throws {
      staleMilliseconds = try configuration.milliseconds("ozone.scm.stale.node.interval", default: 300_000)
      deadMilliseconds = try configuration.milliseconds("ozone.scm.dead.node.interval", default: 600_000)
      checkMilliseconds = try configuration.milliseconds("ozone.scm.heartbeat.thread.interval", default: 3_000)
      guard checkMilliseconds > 0 else {
        throw ConfigurationError(key: "ozone.scm.heartbeat.thread.interval", message: "must be positive")
      }
      guard staleMilliseconds >= checkMilliseconds else {
        throw ConfigurationError(
          key: "ozone.scm.stale.node.interval", message: "must be at least ozone.scm.heartbeat.thread.interval (\(checkMilliseconds)ms)")
      }
      guard deadMilliseconds > staleMilliseconds else {
        throw ConfigurationError(key: "ozone.scm.dead.node.interval", message: "must be longer than ozone.scm.stale.node.interval (\(staleMilliseconds)ms)")
      }
    }
  }

  /// One registered datanode as SCM sees it.
  struct Node: Sendable {
    var details: SCMDatanodeDetails
    var state: SCMNodeState
    var lastHeartbeat: UInt64
    var report: SCMNodeReport
  }

  private let settings: Settings
  private let clusterID: String
  /// Monotonic milliseconds; tests give their own.
  private let clock: @Sendable () -> UInt64
  private let logger: Logger
  private let nodes = Mutex<[String: Node]>([:])

  init(settings: Settings, clusterID: String, logger: Logger, clock: @escaping @Sendable () -> UInt64 = SCMNodeManager.monotonicMilliseconds) {
    self.settings = settings
    self.clusterID = clusterID
    self.logger = logger
    self.clock = clock
  }

  static let monotonicMilliseconds: @Sendable () -> UInt64 = { DispatchTime.now().uptimeNanoseconds / 1_000_000 }

  var checkInterval: Duration { .milliseconds(settings.checkMilliseconds) }

  /// Registers a datanode, or updates one that registered before (a restart, or a move to
  /// another address). The address SCM saw the call come from replaces the one the datanode
  /// reports, as in Ozone. Several datanodes may share a host; the uuid tells them apart.
  ///
  /// Refused (`errorNodeNotPermitted`, with the reason), changing nothing: a uuid that is not a
  /// UUID, and a uuid that a HEALTHY node on another host or address holds: two live datanodes
  /// claiming one identity (a copied datanode.id) would otherwise take turns being one node.
  func register(_ request: SCMRegisterRequest, peerAddress: String?) -> (response: SCMRegisteredResponse, refusal: String?) {
    var details = request.datanodeDetails
    var response = SCMRegisteredResponse()
    response.datanodeUuid = details.uuid
    response.clusterID = clusterID
    guard UUID(uuidString: details.uuid) != nil else {
      response.errorCode = .errorNodeNotPermitted
      return (response, "a datanode must register with a UUID, not '\(details.uuid)'")
    }
    if let peerAddress, !peerAddress.isEmpty { details.ipAddress = peerAddress }
    let now = clock()
    let outcome = nodes.withLock { nodes -> (isNew: Bool, clash: Node?) in
      if let existing = nodes[details.uuid], existing.state == .healthy,
        existing.details.hostName != details.hostName || existing.details.ipAddress != details.ipAddress
      {
        return (false, existing)
      }
      let isNew = nodes[details.uuid] == nil
      nodes[details.uuid] = Node(details: details, state: .healthy, lastHeartbeat: now, report: request.nodeReport)
      return (isNew, nil)
    }
    if let clash = outcome.clash {
      response.errorCode = .errorNodeNotPermitted
      let refusal =
        "datanode \(details.uuid) is registered from \(clash.details.hostName)/\(clash.details.ipAddress) and heartbeating;"
        + " \(details.hostName)/\(details.ipAddress) cannot register with the same identity"
      logger.warning("refused a registration: \(refusal)")
      return (response, refusal)
    }
    logger.info(
      outcome.isNew ? "Registered datanode" : "Registered datanode again",
      metadata: ["datanode": "\(details.uuid)(\(details.hostName)/\(details.ipAddress))"])
    response.errorCode = .success
    response.hostname = details.hostName
    response.ipAddress = details.ipAddress
    return (response, nil)
  }

  /// Records a heartbeat; a datanode SCM does not know (never registered, or registered before
  /// this SCM restarted) is asked to register again and nothing it sent is used.
  func heartbeat(_ request: SCMHeartbeatRequest) -> SCMHeartbeatResponse {
    let uuid = request.datanodeDetails.uuid
    let now = clock()
    let known = nodes.withLock { nodes -> (Bool, SCMNodeState?) in
      guard var node = nodes[uuid] else { return (false, nil) }
      let before = node.state
      node.lastHeartbeat = now
      node.state = .healthy
      if request.hasNodeReport { node.report = request.nodeReport }
      nodes[uuid] = node
      return (true, before)
    }
    var response = SCMHeartbeatResponse()
    response.datanodeUuid = uuid
    if !known.0 {
      logger.info("SCM received heartbeat from an unregistered datanode; asking it to re-register", metadata: ["datanode": "\(uuid)"])
      var command = SCMCommand()
      command.commandType = .reregisterCommand
      response.commands = [command]
    } else if let before = known.1, before != .healthy {
      logger.info("datanode is HEALTHY again", metadata: ["datanode": "\(uuid)", "was": "\(before)"])
    }
    return response
  }

  /// Moves nodes whose last heartbeat is too old to STALE or DEAD; returns the changes.
  @discardableResult
  func checkHealth() -> [(uuid: String, from: SCMNodeState, to: SCMNodeState)] {
    let now = clock()
    let changes = nodes.withLock { nodes in
      var changes: [(uuid: String, from: SCMNodeState, to: SCMNodeState)] = []
      for (uuid, node) in nodes {
        let silent = Int64(now >= node.lastHeartbeat ? now - node.lastHeartbeat : 0)
        let state: SCMNodeState =
          silent >= settings.deadMilliseconds ? .dead : silent >= settings.staleMilliseconds ? .stale : .healthy
        if state != node.state {
          changes.append((uuid, node.state, state))
          nodes[uuid]?.state = state
        }
      }
      return changes
    }
    for change in changes {
      logger.warning("datanode is \(change.to) (was \(change.from))", metadata: ["datanode": "\(change.uuid)"])
    }
    return changes
  }

  /// Every known node, ordered by health then uuid (as `ozone admin datanode list`).
  func allNodes() -> [(node: Node, millisecondsSinceHeartbeat: Int64)] {
    let now = clock()
    return nodes.withLock { Array($0.values) }
      .sorted { ($0.state.rawValue, $0.details.uuid) < ($1.state.rawValue, $1.details.uuid) }
      .map { ($0, Int64(now >= $0.lastHeartbeat ? now - $0.lastHeartbeat : 0)) }
  }

  func count(in state: SCMNodeState) -> Int { nodes.withLock { $0.values.filter { $0.state == state }.count } }

  var registeredCount: Int { nodes.withLock { $0.count } }
}
