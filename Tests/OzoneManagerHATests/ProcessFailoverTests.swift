import Foundation
import NIOPosix
import O3Common
import OMProto
import OzoneClient
import OzoneManager
import RaftSimulation
import Synchronization
import O3TestSupport
import Testing

/// Three `o3 om` processes under load: kill -9 of the leader, leadership transfer, restart of all.
/// Histories are checked with the linearizability checker; every acknowledged write must be on
/// every OM afterwards.
@Suite(.watchdog, .serialized) struct ProcessFailoverTests {
  @Test func killingTheLeaderUnderLoadLosesNothingAcknowledged() async throws {
    let cluster = try await ProcessCluster.start()
    defer { cluster.stopAll() }
    let workload = Workload(client: try await cluster.client())
    try await workload.prepare()
    let load = Task { await workload.run(clients: 4, operations: 40) }
    try await cluster.waitUntil("the load is under way") { workload.history.count >= 30 }
    let leader = try await cluster.leader()
    await cluster.kill(leader)
    await load.value
    try await cluster.launch(leader)
    try await cluster.waitUntilServing(leader)
    try await workload.checkEverything(on: cluster)
  }

  @Test func transferringLeadershipUnderLoadLosesNothingAcknowledged() async throws {
    let cluster = try await ProcessCluster.start()
    defer { cluster.stopAll() }
    let workload = Workload(client: try await cluster.client())
    try await workload.prepare()
    let load = Task { await workload.run(clients: 4, operations: 40) }
    try await cluster.waitUntil("the load is under way") { workload.history.count >= 20 }
    for _ in 0..<2 {
      let leader = try await cluster.leader()
      let result = try await OMAdminClient.transfer(at: cluster.address(of: leader), OMTransferRequest(targetNodeId: nil))
      #expect(result.leaderId != leader)
    }
    await load.value
    try await workload.checkEverything(on: cluster)
  }

  @Test func restartingAllThreeKeepsEverything() async throws {
    let cluster = try await ProcessCluster.start()
    defer { cluster.stopAll() }
    let workload = Workload(client: try await cluster.client())
    try await workload.prepare()
    await workload.run(clients: 2, operations: 20)
    for node in cluster.nodeIDs { #expect(await cluster.terminate(node) == 0, "SIGTERM stops \(node) cleanly") }
    for node in cluster.nodeIDs { try await cluster.launch(node) }
    for node in cluster.nodeIDs { try await cluster.waitUntilServing(node) }
    _ = try await cluster.leader()
    try await workload.checkEverything(on: cluster)
  }
}

/// Three `o3 om` processes of service `omservice` on free ports, started by the test.
final class ProcessCluster: @unchecked Sendable {
  // @unchecked: `processes` changes only from the test's own task.
  let directory: TemporaryDirectory
  let layout: LocalServiceLayout
  private var processes: [String: O3Process] = [:]
  var nodeIDs: [String] { layout.nodes.map(\.nodeID) }

  private init() throws {
    directory = TemporaryDirectory("process-cluster")
    layout = try LocalServiceLayout(root: directory.path, basePort: try LocalPorts.freeBase())
  }

  static func start() async throws -> ProcessCluster {
    let cluster = try ProcessCluster()
    let layout = cluster.layout
    for node in layout.nodes {
      let configuration = try layout.serverConfiguration(node, overrides: ["ozone.om.ratis.minimum.timeout=1s"])
      try FileManager.default.createDirectory(atPath: node.directory, withIntermediateDirectories: true)
      try await writeTextFile(LocalServiceLayout.hadoopXML(configuration), to: node.configurationFile)
      try await OMStorage(configuration: configuration).initialize()
    }
    for node in cluster.nodeIDs { try await cluster.launch(node) }
    _ = try await cluster.leader()
    return cluster
  }

  func launch(_ nodeID: String) async throws {
    let node = layout.nodes.first { $0.nodeID == nodeID }!
    processes[nodeID] = try await O3Process.o3(["om", "--conf", node.configurationFile])
  }

  /// SIGKILL: the OM loses whatever it had not fsync'd.
  func kill(_ nodeID: String) async {
    await processes[nodeID]?.kill()
  }

  func terminate(_ nodeID: String) async -> Int32 { await processes[nodeID]?.terminate() ?? -1 }

  func stopAll() {
    for node in nodeIDs { processes[node]?.sendKill() }
  }

  func address(of nodeID: String) -> HostAndPort {
    HostAndPort(host: "127.0.0.1", port: layout.nodes.first { $0.nodeID == nodeID }!.clientPort)
  }

  /// A failover client of the service that retries quickly.
  func client(followerReads: Bool = false) async throws -> OzoneClient {
    try await ClusterClients.failoverClient(layout, followerReads: followerReads)
  }

  /// A client pinned to one OM whose reads that OM may answer as a follower.
  func pinnedClient(_ nodeID: String) async throws -> OzoneClient {
    try await ClusterClients.pinnedClient(address(of: nodeID))
  }

  /// The ready leader, asked of every OM.
  func leader() async throws -> String { try await ClusterClients.leader(of: layout) }

  /// Waits until `nodeID` answers the admin roles call (it listens and has opened its stores).
  func waitUntilServing(_ nodeID: String) async throws {
    try await waitUntil("\(nodeID) serves") {
      (try? await OMAdminClient.roles(at: address(of: nodeID), timeout: .seconds(2))) != nil
    }
  }

  func waitUntil(_ what: String, _ condition: () async -> Bool) async throws {
    let deadline = Date().addingTimeInterval(120)
    while !(await condition()) {
      guard Date() < deadline else { throw TestFailure("timed out waiting for \(what)") }
      try await Task.sleep(for: .milliseconds(50))
    }
  }
}

/// Clients writing keys through the failover client while recording what they saw. Three shared
/// keys act as registers for the linearizability check; every other write creates its own key,
/// which must be on every OM once it was acknowledged.
final class Workload: Sendable {
  let client: OzoneClient
  let history = HistoryLog()
  private let acknowledged = Mutex<[String: UInt64]>([:])
  static let volume = "vol1"
  static let bucket = "bucket1"
  static let registers = ["r0", "r1", "r2"]

  init(client: OzoneClient) { self.client = client }

  func prepare() async throws {
    try await client.createVolume(Self.volume)
    var bucket = BucketInfo()
    bucket.volumeName = Self.volume
    bucket.bucketName = Self.bucket
    bucket.quotaInBytes = -1
    bucket.quotaInNamespace = -1
    try await client.createBucket(bucket)
  }

  func run(clients: Int, operations: Int) async {
    await withTaskGroup(of: Void.self) { group in
      for clientID in 0..<clients {
        group.addTask { await self.runClient(UInt64(clientID), operations: operations) }
      }
    }
  }

  private func runClient(_ clientID: UInt64, operations: Int) async {
    for operation in 0..<operations {
      let size = clientID * 1_000 + UInt64(operation) + 1
      switch operation % 3 {
      case 0:
        let key = "c\(clientID)-\(operation)"
        if (try? await client.putKey(Self.volume, Self.bucket, key, dataSize: size)) != nil {
          acknowledged.withLock { $0[key] = size }
        }
      case 1:
        let key = Self.registers[(Int(clientID) + operation) % 3]
        let began = history.now()
        do {
          try await client.putKey(Self.volume, Self.bucket, key, dataSize: size)
          history.record(clientID: clientID, input: .put(key: key, value: "\(size)"), output: .done, callTime: began)
        } catch {
          history.record(clientID: clientID, input: .put(key: key, value: "\(size)"), output: nil, callTime: began)
        }
      default:
        let key = Self.registers[operation % 3]
        await read(key, clientID: clientID)
      }
    }
  }

  private func read(_ key: String, clientID: UInt64) async {
    let began = history.now()
    do {
      let info = try await client.keyInfo(Self.volume, Self.bucket, key)
      history.record(clientID: clientID, input: .get(key: key), output: .value("\(info.dataSize)"), callTime: began)
    } catch let error as OzoneClientError where error.status == .keyNotFound {
      history.record(clientID: clientID, input: .get(key: key), output: .value(nil), callTime: began)
    } catch {
      // The read's answer is unknown; reads do not change anything, so it is left out.
    }
  }

  /// Final reads through the leader, the linearizability check, and every acknowledged key on
  /// every OM (each answering as a follower after a ReadIndex round).
  func checkEverything(on cluster: ProcessCluster) async throws {
    for key in Self.registers { await read(key, clientID: 99) }
    let result = LinearizabilityChecker(model: KeyValueModel()).check(history.operations)
    #expect(result.isLinearizable, "\(result)")
    let expected = acknowledged.withLock { $0 }
    #expect(expected.count > 10, "the load made progress")
    for node in cluster.nodeIDs {
      let pinned = try await cluster.pinnedClient(node)
      var found: [String: UInt64] = [:]
      var startAfter = ""
      while true {
        let page = try await pinned.listKeys(Self.volume, Self.bucket, prefix: "c", startAfter: startAfter, count: 1000)
        for key in page.keys { found[key.keyName] = key.dataSize }
        guard page.isTruncated, let last = page.keys.last else { break }
        startAfter = last.keyName
      }
      for (key, size) in expected {
        #expect(found[key] == size, "\(node) is missing acknowledged key \(key)")
      }
      await pinned.close()
    }
  }
}

/// A concurrent history in the checker's terms; an operation whose outcome is unknown stays
/// open-ended (it may have taken effect at any time after its call).
final class HistoryLog: Sendable {
  private let operations_ = Mutex<[HistoryOperation<KeyValueInput, KeyValueOutput>]>([])
  private let start = ContinuousClock.now

  func now() -> UInt64 {
    let elapsed = ContinuousClock.now - start
    return UInt64(elapsed.components.seconds) * 1_000_000_000 + UInt64(elapsed.components.attoseconds / 1_000_000_000)
  }

  func record(clientID: UInt64, input: KeyValueInput, output: KeyValueOutput?, callTime: UInt64) {
    let outcome: OperationOutcome<KeyValueOutput> = output.map { .returned($0, returnTime: now()) } ?? .unknown
    operations_.withLock { $0.append(HistoryOperation(clientID: clientID, input: input, callTime: callTime, outcome: outcome)) }
  }

  var operations: [HistoryOperation<KeyValueInput, KeyValueOutput>] { operations_.withLock { $0 } }
  var count: Int { operations_.withLock { $0.count } }
}
