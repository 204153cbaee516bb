import Foundation
import O3Common
import O3TestSupport
import OzoneClient
import OzoneManager
import Synchronization

/// `o3 om` processes of service `omservice` on 127.0.0.1 whose every peer and client
/// connection goes through its own ``LinkProxy``: OM i reaches OM j's Raft and HTTP ports
/// through the proxies `omi→omj raft` and `omi→omj http` (its ozone-site.xml names the proxy
/// ports as OM j's), and workload client c reaches OM j through `cc→omj client`.
///
/// The test process talks to every OM directly (admin calls, its own setup writes): those
/// links are the observer's, never faulted. Processes are controlled by their own pids.
final class OMFaultCluster: Sendable {
  /// One OM: its real ports and where its files are.
  struct Node: Sendable {
    var nodeID: String
    var clientPort: Int
    var raftPort: Int
    var httpPort: Int
    var directory: String
    var raftLogDirectory: String
    var configurationFile: String { "\(directory)/ozone-site.xml" }
    var logFile: String { "\(directory)/om.log" }
    var databasePath: String { "\(directory)/om.db" }
    var clientAddress: HostAndPort { HostAndPort(host: "127.0.0.1", port: clientPort) }
  }

  static let serviceID = "omservice"
  static let peerPurposes: Set<String> = ["raft", "http"]

  let root: String
  let nodes: [Node]
  let mesh: ProxyMesh
  let clientCount: Int
  /// `clientProxyPorts[c][j]`: where client c dials OM j.
  private let clientProxyPorts: [[Int]]
  private let processes = Mutex<[String: ManagedProcess]>([:])

  var nodeIDs: [String] { nodes.map(\.nodeID) }

  private init(root: String, nodes: [Node], mesh: ProxyMesh, clientProxyPorts: [[Int]]) {
    self.root = root
    self.nodes = nodes
    self.mesh = mesh
    self.clientCount = clientProxyPorts.count
    self.clientProxyPorts = clientProxyPorts
  }

  /// Lays out, configures, initialises and launches `nodeCount` OMs, then waits for a leader.
  ///
  /// - Parameters:
  ///   - overrides: `key=value` settings for every OM (after the defaults of ``baseSettings``).
  ///   - raftLogDirectory: where an OM keeps its Raft log, when not under its own directory.
  static func start(
    label: String, nodeCount: Int, clientCount: Int, seed: UInt64, overrides: [String] = [],
    raftLogDirectory: (String) -> String? = { _ in nil }
  ) async throws -> OMFaultCluster {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("o3-faults-\(label)-\(UUID().uuidString.prefix(8))").path
    let ports = try FreePorts.allocate(3 * nodeCount)
    let nodes = (0..<nodeCount).map { index in
      let directory = "\(root)/om\(index + 1)"
      return Node(
        nodeID: "om\(index + 1)", clientPort: ports[3 * index], raftPort: ports[3 * index + 1], httpPort: ports[3 * index + 2],
        directory: directory, raftLogDirectory: raftLogDirectory("om\(index + 1)") ?? "\(directory)/om.ratis")
    }
    let mesh = ProxyMesh()
    var linkSeed = seed
    func nextSeed() -> UInt64 {
      linkSeed = linkSeed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return linkSeed
    }
    var peerPorts: [String: Int] = [:]
    for from in nodes {
      for to in nodes where to.nodeID != from.nodeID {
        peerPorts["\(from.nodeID) \(to.nodeID) raft"] = try await mesh.add(
          LinkID(from: from.nodeID, to: to.nodeID, purpose: "raft"), targetPort: to.raftPort, seed: nextSeed())
        peerPorts["\(from.nodeID) \(to.nodeID) http"] = try await mesh.add(
          LinkID(from: from.nodeID, to: to.nodeID, purpose: "http"), targetPort: to.httpPort, seed: nextSeed())
      }
    }
    var clientProxyPorts: [[Int]] = []
    for client in 0..<clientCount {
      var row: [Int] = []
      for node in nodes {
        row.append(
          try await mesh.add(LinkID(from: "c\(client)", to: node.nodeID, purpose: "client"), targetPort: node.clientPort, seed: nextSeed()))
      }
      clientProxyPorts.append(row)
    }
    let cluster = OMFaultCluster(root: root, nodes: nodes, mesh: mesh, clientProxyPorts: clientProxyPorts)
    do {
      for node in nodes {
        let configuration = try cluster.serverConfiguration(node, peerPorts: peerPorts, overrides: overrides)
        try FileManager.default.createDirectory(atPath: node.directory, withIntermediateDirectories: true)
        try await writeTextFile(LocalServiceLayout.hadoopXML(configuration), to: node.configurationFile)
        _ = try await OMStorage(configuration: configuration).initialize()
      }
      for node in nodes { try await cluster.launch(node.nodeID) }
      guard await cluster.waitForLeader(timeout: .seconds(180)) != nil else {
        throw FaultTestFailure("no leader was elected within 180 s of starting \(nodeCount) OMs (logs under \(root))")
      }
    } catch {
      await cluster.shutDown(removeFiles: false)
      throw error
    }
    return cluster
  }

  /// Settings every fault cluster starts from: short election timeouts so that faults cost
  /// seconds, not minutes (on a busy machine 1 s still elects without needless churn).
  static let baseSettings = ["ozone.om.ratis.minimum.timeout=1s"]

  private func serverConfiguration(_ node: Node, peerPorts: [String: Int], overrides: [String]) throws -> OzoneConfiguration {
    var configuration = OzoneConfiguration()
    let service = Self.serviceID
    configuration["ozone.om.service.ids"] = service
    configuration["ozone.om.nodes.\(service)"] = nodeIDs.joined(separator: ",")
    configuration["ozone.om.node.id"] = node.nodeID
    configuration[OzoneConfigKeys.metadataDirs] = node.directory
    configuration["ozone.om.ratis.storage.dir"] = node.raftLogDirectory
    for other in nodes {
      let local = other.nodeID == node.nodeID
      let raft = local ? other.raftPort : peerPorts["\(node.nodeID) \(other.nodeID) raft"]!
      let http = local ? other.httpPort : peerPorts["\(node.nodeID) \(other.nodeID) http"]!
      configuration["ozone.om.address.\(service).\(other.nodeID)"] = "127.0.0.1:\(other.clientPort)"
      configuration["ozone.om.ratis.port.\(service).\(other.nodeID)"] = "\(raft)"
      configuration["ozone.om.http-address.\(service).\(other.nodeID)"] = "127.0.0.1:\(http)"
    }
    for setting in Self.baseSettings + overrides { try configuration.apply(override: setting) }
    return configuration
  }

  // MARK: processes

  func node(_ nodeID: String) -> Node { nodes.first { $0.nodeID == nodeID }! }

  /// Starts (or restarts) the OM `nodeID`.
  func launch(_ nodeID: String) async throws {
    let node = node(nodeID)
    let process = try await ManagedProcess.start(
      executable: O3Binary.path, arguments: ["om", "--conf", node.configurationFile], output: .logFile(node.logFile))
    processes.withLock { $0[nodeID] = process }
  }

  func process(_ nodeID: String) -> ManagedProcess? { processes.withLock { $0[nodeID] } }

  func isRunning(_ nodeID: String) -> Bool { process(nodeID)?.isRunning ?? false }

  func isPaused(_ nodeID: String) -> Bool { process(nodeID)?.isPaused ?? false }

  /// kill -9 by pid; the OM loses whatever it had not fsync'd.
  func kill(_ nodeID: String) async { await process(nodeID)?.kill() }

  func pause(_ nodeID: String) { process(nodeID)?.pause() }

  func resume(_ nodeID: String) { process(nodeID)?.resume() }

  /// SIGTERM; the exit status, or nil if it had to be killed after a generous wait.
  func terminate(_ nodeID: String) async -> Int32? { await process(nodeID)?.terminate() }

  /// Kills every OM by pid and stops every proxy; removes the files unless asked to keep them.
  func shutDown(removeFiles: Bool) async {
    killAll()
    await mesh.stop()
    if removeFiles { try? FileManager.default.removeItem(atPath: root) }
  }

  /// kill -9 of every OM still running, without waiting for the exits (for `defer`).
  func killAll() {
    for process in processes.withLock({ Array($0.values) }) { process.sendKill() }
  }

  // MARK: observing

  /// The OM's own status, asked directly; nil when it does not answer (down, paused, starting).
  func status(of nodeID: String, timeout: Duration = .seconds(2)) async -> OMNodeStatus? {
    guard isRunning(nodeID), !isPaused(nodeID) else { return nil }
    return try? await OMAdminClient.roles(at: node(nodeID).clientAddress, timeout: timeout)
  }

  func statuses() async -> [String: OMNodeStatus] {
    var result: [String: OMNodeStatus] = [:]
    for nodeID in nodeIDs {
      if let status = await status(of: nodeID) { result[nodeID] = status }
    }
    return result
  }

  /// The ready leader of the highest term any answering OM reports, if any.
  func leader() async -> String? {
    let leaders = await statuses().values.filter { $0.role == .leader && $0.leaderReady }
    return leaders.max { $0.term < $1.term }?.nodeId
  }

  /// Polls for a ready leader; nil if none appeared before `timeout` (not an assertion).
  func waitForLeader(timeout: Duration) async -> String? {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
      if let leader = await leader() { return leader }
      try? await Task.sleep(for: .milliseconds(100))
    }
    return nil
  }

  /// Waits until every OM named answers, one leads, and all have applied and flushed the
  /// leader's whole log; throws with what was seen last if that does not happen in `timeout`.
  func waitForConvergence(of nodeIDs: [String], timeout: Duration) async throws {
    let deadline = ContinuousClock.now + timeout
    var last: [String: OMNodeStatus] = [:]
    while ContinuousClock.now < deadline {
      last = [:]
      for nodeID in nodeIDs { last[nodeID] = await status(of: nodeID) }
      if Self.converged(last.compactMapValues { $0 }, expected: nodeIDs.count) { return }
      try await Task.sleep(for: .milliseconds(200))
    }
    let seen = nodeIDs.map { nodeID in
      last[nodeID].map { "\(nodeID) \($0.role.rawValue) term \($0.term) commit \($0.commitIndex) applied \($0.appliedIndex) flushed \($0.flushedIndex) last \($0.lastIndex)" }
        ?? "\(nodeID) no answer"
    }
    throw FaultTestFailure("the OMs did not converge within \(timeout): " + seen.joined(separator: "; "))
  }

  private static func converged(_ statuses: [String: OMNodeStatus], expected: Int) -> Bool {
    guard statuses.count == expected else { return false }
    let leaders = statuses.values.filter { $0.role == .leader && $0.leaderReady }
    guard leaders.count == 1, let leader = leaders.first else { return false }
    return statuses.values.allSatisfy {
      $0.term == leader.term && $0.appliedIndex == leader.lastIndex && $0.flushedIndex == leader.lastIndex
        && $0.lastIndex == leader.lastIndex
    }
  }

  /// Lines of every OM's log (all its lives) that contain `text`.
  func logLines(containing text: String) -> Int {
    nodes.reduce(0) { count, node in
      let log = (try? String(contentsOfFile: node.logFile, encoding: .utf8)) ?? ""
      return count + log.split(separator: "\n").filter { $0.contains(text) }.count
    }
  }

  // MARK: clients

  /// Client `index`'s view of the service: every OM at that client's own proxy ports.
  func clientConfiguration(_ index: Int) -> OzoneConfiguration {
    serviceConfiguration(ports: clientProxyPorts[index])
  }

  /// The observer's view: every OM at its real client port.
  var directConfiguration: OzoneConfiguration { serviceConfiguration(ports: nodes.map(\.clientPort)) }

  private func serviceConfiguration(ports: [Int]) -> OzoneConfiguration {
    var configuration = OzoneConfiguration()
    configuration["ozone.om.service.ids"] = Self.serviceID
    configuration["ozone.om.nodes.\(Self.serviceID)"] = nodeIDs.joined(separator: ",")
    for (node, port) in zip(nodes, ports) {
      configuration["ozone.om.address.\(Self.serviceID).\(node.nodeID)"] = "127.0.0.1:\(port)"
    }
    return configuration
  }
}

/// A fault test found something wrong, or could not set up; the message says what.
struct FaultTestFailure: Error, CustomStringConvertible {
  var description: String

  init(_ description: String) {
    self.description = description
  }
}

/// The `o3` binary built beside the tests (the package's debug build).
enum O3Binary {
  static var path: String {
    let besideRunner = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("o3")
    if FileManager.default.isExecutableFile(atPath: besideRunner.path) { return besideRunner.path }
    // swift test may run the tests through a helper; fall back to the package's build folder.
    let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
    return packageRoot.appendingPathComponent(".build/debug/o3").path
  }
}
