import Foundation
import OMMetadata
import OMProto
import OzoneManager

/// A three-OM cluster whose follower fell behind the leader's purged log while it was stopped
/// (or cut off), holding volume `before`: the set-up of every checkpoint install test.
struct BehindFollower {
  /// Small segments, frequent snapshots and a small purge gap, so that the leader purges after a
  /// few hundred writes.
  static let purgingConfiguration = [
    "ozone.om.ratis.segment.size": "4KB", "ozone.om.ratis.log.purge.gap": "10",
    "ozone.om.ratis.snapshot.auto.trigger.threshold": "20",
  ]
  static let token = "the-service-token"

  /// How the follower falls behind.
  enum Absence {
    /// Stopped: it restarts with an empty retry cache (`restartFollower` brings it back).
    case stopped
    /// Cut off from Raft but running: its retry cache survives (`cluster.heal()` brings it back).
    case isolated
  }

  let cluster: OMCluster
  let leader: String
  let follower: String
  /// The one OM that is neither.
  let other: String
  /// The follower's flushed term#index once it stopped or was cut off.
  let followerPosition: TermIndex

  /// - Parameter httpProxies: route checkpoint downloads through cuttable proxies.
  static func make(absence: Absence = .stopped, httpProxies: Bool = false) async throws -> BehindFollower {
    var configuration = purgingConfiguration
    configuration[OMCheckpointService.tokenConfigurationKey] = token
    let cluster = try await OMCluster.start(configuration: configuration, fixedHTTPPorts: true, httpProxies: httpProxies)
    try await cluster.expectOK(Requests.createVolume("before"), callID: 1)
    let leader = try await cluster.leader()
    let follower = OMCluster.nodeIDs.first { $0 != leader }!
    let other = OMCluster.nodeIDs.first { $0 != leader && $0 != follower }!
    try await cluster.waitUntil("the follower holds the first volume") {
      try cluster.digest(follower) == cluster.digest(leader)
    }
    let followerLastIndex: UInt64
    let position: TermIndex
    switch absence {
    case .stopped:
      followerLastIndex = try await lastIndex(of: follower, in: cluster)
      await cluster.stop(follower)
      let store = try OMMetadataStore.open(path: cluster.databasePath(of: follower))
      defer { store.close() }
      position = try store.transactionInfo()
    case .isolated:
      cluster.isolate(follower)
      try await cluster.waitUntil("the follower flushes what it applied") {
        let server = cluster.servers[follower]!
        return try await server.raft.status()?.applied.index == server.store.transactionInfo().index
      }
      position = try cluster.servers[follower]!.store.transactionInfo()
      followerLastIndex = try await lastIndex(of: follower, in: cluster)
    }
    for number in 1...150 {
      try await cluster.expectOK(Requests.createVolume("volume\(number)"), callID: 2 * number)
      try await cluster.expectOK(Requests.createBucket("volume\(number)", "bucket"), callID: 2 * number + 1)
    }
    // A loaded machine may have moved leadership to the third OM meanwhile.
    let finalLeader = try await cluster.leader(among: [leader, other])
    try await cluster.waitUntil("the leader purges the entries the follower lacks") {
      (await cluster.servers[finalLeader]!.raft.status()?.core.firstIndex ?? 0) > followerLastIndex + 1
    }
    return BehindFollower(
      cluster: cluster, leader: finalLeader, follower: follower, other: finalLeader == leader ? other : leader,
      followerPosition: position)
  }

  private static func lastIndex(of node: String, in cluster: OMCluster) async throws -> UInt64 {
    guard let status = await cluster.servers[node]!.raft.status() else { throw HarnessError("\(node) has stopped") }
    return status.core.lastIndex
  }

  var followerServer: OzoneManagerServer { cluster.servers[follower]! }
  var installs: OMCheckpointInstallMetrics { followerServer.metrics.checkpointInstall }

  /// Entries beside the follower's om.db left by an install (candidate, old database).
  func leftovers() throws -> [String] {
    let directory = (cluster.databasePath(of: follower) as NSString).deletingLastPathComponent
    return try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasPrefix("om.db.") }
  }

  /// Waits for a successful install and for the follower to hold the leader's tables.
  func waitForInstall(from source: String? = nil) async throws {
    try await cluster.waitUntil("the follower installs a checkpoint and holds the leader's tables") {
      let applied = await followerServer.raft.status()?.applied.index ?? 0
      return try followerServer.installedCheckpointCount > 0 && cluster.digest(follower) == cluster.digest(source ?? leader)
        && applied > followerPosition.index + 1
    }
  }

  /// The follower's `/prom` page.
  func metricsPage() async throws -> String {
    let reply = try await CheckpointHTTP.fetch(port: followerServer.httpPort, path: "/prom")
    return String(decoding: reply.body, as: UTF8.self)
  }
}

extension OMCluster {
  /// Where `node` keeps om.db.
  func databasePath(of node: String) -> String { "\(directory.path)/\(node)/om.db" }

  /// Sends `request` with its own call id (so the retry cache does not answer it as a retry) to
  /// the leader, again to a new one if leadership moved, and fails unless it is accepted.
  func expectOK(_ request: OMRequest, callID: Int) async throws {
    var request = request
    request.callID = UInt64(callID)
    for _ in 0..<Self.leaderChangesMax {
      let response = try await submit(request, to: try await leader())
      if response.status == .notLeader { continue }
      guard response.status == .ok else {
        throw HarnessError("\(request.cmdType) was refused: \(response.status.ozoneName) \(response.message)")
      }
      return
    }
    throw HarnessError("\(request.cmdType) found no stable leader in \(Self.leaderChangesMax) tries")
  }

  private static let leaderChangesMax = 10
}
