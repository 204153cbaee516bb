import Foundation
import O3TestSupport
import O3Common
import OMProto
import OzoneClient
import OzoneManager
import Synchronization
import Testing

/// `o3 om` processes of service `omservice` whose membership changes: three founding OMs on free
/// ports, room for a fourth, and configuration files a test rewrites as an operator would.
final class MembershipCluster: @unchecked Sendable {
  // @unchecked: `processes` changes only from the test's own task.
  let directory = TemporaryDirectory("membership-cluster")
  /// Every node the test may run (om1…om4); `founders` of them start the service.
  let layout: LocalServiceLayout
  let founders: LocalServiceLayout
  private var processes: [String: O3Process] = [:]
  /// Keys every OM gets: a short election timeout, and small log segments with a small purge gap
  /// so that the leader purges its log under load and a new OM must catch up by checkpoint.
  static let overrides = [
    "ozone.om.ratis.minimum.timeout=1s", "ozone.om.ratis.segment.size=16KB", "ozone.om.ratis.log.purge.gap=50",
    "ozone.om.ratis.snapshot.auto.trigger.threshold=100",
  ]

  private init() throws {
    let base = try LocalPorts.freeBase(nodeCount: 4)
    layout = try LocalServiceLayout(root: directory.path, basePort: base, nodeCount: 4)
    founders = try LocalServiceLayout(root: directory.path, basePort: base, nodeCount: 3)
  }

  /// Starts om1…om3, each configured with the three of them, and waits for a ready leader.
  static func start() async throws -> MembershipCluster {
    let cluster = try MembershipCluster()
    for node in cluster.founders.nodes {
      try await cluster.writeConfiguration(node.nodeID, listing: cluster.founders)
      try await OMStorage(configuration: try cluster.founders.serverConfiguration(node, overrides: overrides)).initialize()
    }
    for node in cluster.founders.nodes { try await cluster.launch(node.nodeID) }
    _ = try await cluster.leader()
    return cluster
  }

  var foundingNodeIDs: [String] { founders.nodes.map(\.nodeID) }
  func node(_ nodeID: String) -> LocalServiceLayout.Node { layout.nodes.first { $0.nodeID == nodeID }! }
  func configurationFile(_ nodeID: String) -> String { node(nodeID).configurationFile }

  /// Writes `nodeID`'s ozone-site.xml listing the nodes of `service` (what an operator edits).
  func writeConfiguration(_ nodeID: String, listing service: LocalServiceLayout) async throws {
    let configuration = try service.serverConfiguration(node(nodeID), overrides: Self.overrides)
    try FileManager.default.createDirectory(atPath: node(nodeID).directory, withIntermediateDirectories: true)
    try await writeTextFile(LocalServiceLayout.hadoopXML(configuration), to: configurationFile(nodeID))
  }

  /// A client configuration file listing the nodes of `service`.
  func clientConfigurationFile(listing service: LocalServiceLayout) async throws -> String {
    let path = "\(directory.path)/client-\(service.nodes.count).xml"
    try await writeTextFile(LocalServiceLayout.hadoopXML(service.clientConfiguration), to: path)
    return path
  }

  /// Runs `o3 om --conf <its file> extra…` for `nodeID`.
  @discardableResult
  func launch(_ nodeID: String, _ extra: [String] = []) async throws -> O3Process {
    let process = try await O3Process.o3(["om", "--conf", configurationFile(nodeID)] + extra)
    processes[nodeID] = process
    return process
  }

  func kill(_ nodeID: String) async {
    await processes[nodeID]?.kill()
  }

  func terminate(_ nodeID: String) async -> Int32 { await processes[nodeID]?.terminate() ?? -1 }

  func stopAll() {
    for process in processes.values { process.sendKill() }
  }

  func address(of nodeID: String) -> HostAndPort {
    HostAndPort(host: "127.0.0.1", port: node(nodeID).clientPort)
  }

  /// A failover client of the founding OMs that retries quickly.
  func client(listing service: LocalServiceLayout? = nil) async throws -> OzoneClient {
    try await ClusterClients.failoverClient(service ?? founders)
  }

  /// A client pinned to one OM whose reads that OM may answer as a follower.
  func pinnedClient(_ nodeID: String) async throws -> OzoneClient {
    try await ClusterClients.pinnedClient(address(of: nodeID))
  }

  /// The ready leader, as every node of the four-node layout reports.
  func leader() async throws -> String { try await ClusterClients.leader(of: layout) }

  /// `o3 admin om roles --json --conf <file>` as node id → server role.
  func roles(_ configurationFile: String) async throws -> [String: String] {
    let result = try await O3Binary.run(["admin", "om", "roles", "--json", "--conf", configurationFile])
    guard result.exitCode == 0, let list = result.json as? [[String: [String: Any]]] else { return [:] }
    var roles: [String: String] = [:]
    for entry in list {
      for (nodeID, fields) in entry { roles[nodeID] = fields["serverRole"] as? String ?? "?" }
    }
    return roles
  }

  func waitUntil(_ what: String, _ condition: () async throws -> Bool) async throws {
    let deadline = Date().addingTimeInterval(120)
    while !(try await condition()) {
      guard Date() < deadline else { throw TestFailure("timed out waiting for \(what)") }
      try await Task.sleep(for: .milliseconds(100))
    }
  }
}

/// Client tasks creating keys until told to stop, remembering every key whose creation was
/// acknowledged: each must be on every member afterwards.
final class AcknowledgedWrites: Sendable {
  static let volume = "vol1"
  static let bucket = "bucket1"
  let client: OzoneClient
  private let acknowledged = Mutex<[String: UInt64]>([:])
  private let stopping = Atomic<Bool>(false)

  init(client: OzoneClient) { self.client = client }

  var count: Int { acknowledged.withLock { $0.count } }

  func prepare() async throws {
    try await client.createVolume(Self.volume)
    var bucket = BucketInfo()
    bucket.volumeName = Self.volume
    bucket.bucketName = Self.bucket
    bucket.quotaInBytes = -1
    bucket.quotaInNamespace = -1
    try await client.createBucket(bucket)
  }

  /// Starts `clients` writers; each stops after `operationsMax` writes or at `stop()`.
  func start(clients: Int, operationsMax: Int = 2_000) -> Task<Void, Never> {
    Task {
      await withTaskGroup(of: Void.self) { group in
        for writer in 0..<clients {
          group.addTask { await self.write(writer, operationsMax: operationsMax) }
        }
      }
    }
  }

  func stop() { stopping.store(true, ordering: .relaxed) }

  private func write(_ writer: Int, operationsMax: Int) async {
    for operation in 0..<operationsMax {
      if stopping.load(ordering: .relaxed) { return }
      let key = "w\(writer)-\(operation)"
      let size = UInt64(writer * 100_000 + operation + 1)
      // A failed write's outcome is unknown: it is neither expected nor forbidden afterwards.
      if (try? await client.putKey(Self.volume, Self.bucket, key, dataSize: size)) != nil {
        acknowledged.withLock { $0[key] = size }
      }
    }
  }

  /// Every acknowledged key, with its size, as `nodeID` serves it (as a follower, after a
  /// ReadIndex round with the leader); returns the keys missing or wrong there.
  func missing(on nodeID: String, in cluster: MembershipCluster) async throws -> [String] {
    let pinned = try await cluster.pinnedClient(nodeID)
    var found: [String: UInt64] = [:]
    var startAfter = ""
    while true {
      let page = try await pinned.listKeys(Self.volume, Self.bucket, prefix: "w", startAfter: startAfter, count: 1000)
      for key in page.keys { found[key.keyName] = key.dataSize }
      guard page.isTruncated, let last = page.keys.last else { break }
      startAfter = last.keyName
    }
    await pinned.close()
    return acknowledged.withLock { $0 }.filter { found[$0.key] != $0.value }.map(\.key).sorted()
  }
}
