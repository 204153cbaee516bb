import ArgumentParser
import Foundation
import SCMProto
import StorageContainerManager

/// `o3 admin datanode`: the datanodes SCM knows (Ozone's `ozone admin datanode`).
struct DatanodeAdminCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "datanode", abstract: "List the datanodes SCM knows.", subcommands: [DatanodeListCommand.self])
}

/// `o3 admin datanode list [--node-state S] [--json]`, in Ozone's text:
/// `Datanode: <uuid> (<location>/<ip>/<host>/<n> pipelines)`, its operational and health state, its
/// pipelines.
struct DatanodeListCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(commandName: "list", abstract: "List the datanodes with their health.")

  @OptionGroup var options: SCMAdminOptions

  @Option(name: .customLong("node-state"), help: "Only nodes in this health state (HEALTHY, STALE, DEAD).")
  var nodeState: String?

  @Flag(name: .long, help: "Print a JSON array, as Ozone does.")
  var json = false

  func validate() throws {
    if let nodeState, Self.state(nodeState) == nil {
      throw ValidationError("--node-state must be HEALTHY, STALE or DEAD, not '\(nodeState)'")
    }
  }

  static func state(_ name: String) -> SCMNodeState? {
    ["HEALTHY": .healthy, "STALE": .stale, "DEAD": .dead, "HEALTHY_READONLY": .healthyReadonly][name.uppercased()]
  }

  func run() async throws {
    var request = SCMAdminRequest()
    request.cmdType = .adminQueryNode
    if let nodeState { request.queryNodeRequest.state = Self.state(nodeState)! }
    let response = try await options.call(request)
    let nodes = response.queryNodeResponse.datanodes
    if json {
      printJSON(.array(nodes.map(Self.json)))
      return
    }
    for node in nodes {
      let details = node.datanodeDetails
      print("Datanode: \(details.uuid) (/default-rack/\(details.ipAddress)/\(details.hostName)/\(node.pipelines.count) pipelines)")
      print("Operational State: IN_SERVICE")
      print("Health State: \(Self.name(node.nodeState))")
      print("Total volume count: \(node.storageReports.count)")
      print("Healthy volume count: \(node.storageReports.filter { !$0.failed }.count)")
      if node.pipelines.isEmpty {
        print("No related pipelines or the node is not in Healthy state.")
      } else {
        print("Related pipelines:")
        for pipeline in node.pipelines { print(pipeline) }
      }
      print("")
    }
  }

  static func name(_ state: SCMNodeState) -> String {
    switch state {
    case .healthy: "HEALTHY"
    case .stale: "STALE"
    case .dead: "DEAD"
    case .healthyReadonly: "HEALTHY_READONLY"
    case .unspecified, .UNRECOGNIZED: "UNKNOWN"
    }
  }

  /// Ozone's BasicDatanodeInfo fields, those O3 knows.
  static func json(_ node: SCMNodeInfo) -> JSONValue {
    let details = node.datanodeDetails
    return .object([
      ("id", .string(details.uuid)), ("hostName", .string(details.hostName)), ("ipAddress", .string(details.ipAddress)),
      ("ports", .array(details.ports.map { .object([("name", .string($0.name)), ("value", .unsigned(UInt64($0.value)))]) })),
      ("currentVersion", .integer(Int64(details.currentVersion))), ("opState", .string("IN_SERVICE")),
      ("persistedOpState", .string("IN_SERVICE")), ("healthState", .string(name(node.nodeState))),
      ("networkLocation", .string("/default-rack")), ("networkName", .string(details.uuid)),
      ("totalVolumeCount", .integer(Int64(node.storageReports.count))),
      ("healthyVolumeCount", .integer(Int64(node.storageReports.filter { !$0.failed }.count))),
      ("capacity", .unsigned(node.storageReports.reduce(0) { $0 + $1.capacity })),
      ("used", .unsigned(node.storageReports.reduce(0) { $0 + $1.scmUsed })),
      ("lastHeartbeatMillisecondsAgo", .integer(node.millisecondsSinceLastHeartbeat)),
    ])
  }
}

/// `o3 admin safemode status [--verbose] | wait [-t SECONDS]` (Ozone's `ozone admin safemode`).
struct SafeModeAdminCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "safemode", abstract: "Show whether SCM is in safe mode, or wait until it is out.",
    subcommands: [SafeModeStatusCommand.self, SafeModeWaitCommand.self])
}

struct SafeModeStatusCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(commandName: "status", abstract: "Whether SCM is in safe mode (and why, with --verbose).")

  @OptionGroup var options: SCMAdminOptions

  @Flag(name: .long, help: "Print each safe-mode rule and whether it holds.")
  var verbose = false

  func run() async throws {
    var request = SCMAdminRequest()
    request.cmdType = .adminInSafeMode
    let status = try await options.call(request).safeModeStatus
    print(status.inSafeMode ? "SCM is in safe mode." : "SCM is out of safe mode.")
    if verbose {
      for rule in status.rules { print("validated:\(rule.validate), \(rule.ruleName), \(rule.statusText)") }
    }
  }
}

struct SafeModeWaitCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(commandName: "wait", abstract: "Wait until SCM is out of safe mode.")

  @OptionGroup var options: SCMAdminOptions

  @Option(name: [.short, .long], help: "Seconds to wait (Ozone's default 30).")
  var timeout: Int = 30

  func run() async throws {
    var request = SCMAdminRequest()
    request.cmdType = .adminInSafeMode
    let deadline = ContinuousClock.now + .seconds(timeout)
    while true {
      let status = try await options.call(request).safeModeStatus
      if !status.inSafeMode {
        print("SCM is out of safe mode.")
        return
      }
      let remaining = deadline - ContinuousClock.now
      guard remaining > .zero else {
        print("SCM is in safe mode. No more retries.")
        throw CommandFailure(message: "Safe mode is not ended within the timeout period.")
      }
      print("SCM is in safe mode. Will retry in 1 sec. Remaining time (sec): \(remaining.components.seconds)")
      try await Task.sleep(for: .seconds(1))
    }
  }
}
