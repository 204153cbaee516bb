import Foundation
import Logging
import NIOPosix
import O3Common
import O3TestSupport
import Raft
import SCMDomain
import SCMProto
import StorageContainerManager
import Synchronization
import Testing

/// SCMs in this process on 127.0.0.1, each with its own directory.
final class SCMHarness: Sendable {
  let root: String
  let configurations: [OzoneConfiguration]
  private let running = Mutex<[Int: StorageContainerManagerServer]>([:])

  /// One SCM (ports chosen by the kernel) or a service of `count` SCMs on free ports.
  init(count: Int, extra: [String: String] = [:]) throws {
    root = try temporaryDirectory("scm-harness")
    var configurations: [OzoneConfiguration] = []
    if count == 1 {
      var values = [
        "ozone.metadata.dirs": "\(root)/scm1", "ozone.scm.client.address": "127.0.0.1:0",
        "ozone.scm.block.client.address": "127.0.0.1:0", "ozone.scm.datanode.address": "127.0.0.1:0",
        "ozone.scm.ratis.port": "0", "ozone.scm.ha.ratis.leader.election.timeout": "1s",
      ]
      values.merge(extra) { $1 }
      configurations.append(OzoneConfiguration(values))
    } else {
      let ports = try FreePorts.allocate(5 * count)
      var shared = [
        "ozone.scm.service.ids": "scmservice", "ozone.scm.nodes.scmservice": (1...count).map { "scm\($0)" }.joined(separator: ","),
        "ozone.scm.ha.ratis.leader.election.timeout": "1s",
      ]
      for node in 1...count {
        let base = 5 * (node - 1)
        let suffix = ".scmservice.scm\(node)"
        shared["ozone.scm.address" + suffix] = "127.0.0.1"
        shared["ozone.scm.client.port" + suffix] = "\(ports[base])"
        shared["ozone.scm.block.client.port" + suffix] = "\(ports[base + 1])"
        shared["ozone.scm.datanode.port" + suffix] = "\(ports[base + 2])"
        shared["ozone.scm.ratis.port" + suffix] = "\(ports[base + 3])"
        shared["ozone.scm.http-address" + suffix] = "127.0.0.1:\(ports[base + 4])"
      }
      shared.merge(extra) { $1 }
      for node in 1...count {
        var values = shared
        values["ozone.metadata.dirs"] = "\(root)/scm\(node)"
        values["ozone.scm.node.id"] = "scm\(node)"
        configurations.append(OzoneConfiguration(values))
      }
    }
    self.configurations = configurations
    // One cluster: every SCM shares the first one's cluster id.
    let clusterID = UUID().uuidString.lowercased()
    for configuration in configurations {
      try SCMStorage(configuration: configuration).initializeBlocking(clusterID: clusterID)
    }
  }

  func start(_ index: Int) async throws -> StorageContainerManagerServer {
    var logger = Logger(label: "scm\(index + 1)")
    logger.logLevel = ProcessInfo.processInfo.environment["O3_TEST_LOG"] == nil ? .warning : .debug
    let server = try await StorageContainerManagerServer.start(
      settings: try StorageContainerManagerServer.Settings(configuration: configurations[index]), logger: logger,
      onFatalError: { Issue.record("SCM \(index + 1) failed: \($0)") })
    running.withLock { $0[index] = server }
    return server
  }

  func startAll() async throws -> [StorageContainerManagerServer] {
    var servers: [StorageContainerManagerServer] = []
    for index in configurations.indices { servers.append(try await start(index)) }
    return servers
  }

  func stop(_ index: Int) async {
    guard let server = running.withLock({ $0.removeValue(forKey: index) }) else { return }
    await server.shutdown()
  }

  func shutdown() async {
    for index in configurations.indices { await stop(index) }
    try? FileManager.default.removeItem(atPath: root)
  }

  func client(_ addresses: [HostAndPort]) -> SCMClient {
    SCMClient(addresses: addresses, group: MultiThreadedEventLoopGroup.singleton)
  }
}


/// One SCM in this process: its block and admin ports, and ids that are never handed out twice.
@Suite(.watchdog) struct SCMServerTests {
  @Test func theBlockPortAnswersGetScmInfoAndRefusesAllocationInSafeMode() async throws {
    let harness = try SCMHarness(count: 1)
    let scm = try await harness.start(0)
    let client = harness.client([HostAndPort(host: "127.0.0.1", port: scm.blockPort)])

    var info = SCMBlockLocationRequest()
    info.cmdType = .getScmInfo
    info.traceID = "t1"
    let answer = try await client.block(info)
    #expect(answer.status == .ok && answer.success && answer.traceID == "t1")
    #expect(answer.getScmInfoResponse.clusterID == scm.identity.clusterID)
    #expect(answer.getScmInfoResponse.scmID == scm.identity.scmID)

    var allocate = SCMBlockLocationRequest()
    allocate.cmdType = .allocateScmBlock
    allocate.allocateScmBlockRequest.size = 256 << 20
    allocate.allocateScmBlockRequest.numBlocks = 1
    allocate.allocateScmBlockRequest.type = .ratis
    allocate.allocateScmBlockRequest.factor = .three
    let refused = try await client.block(allocate)
    #expect(refused.status == .safeModeException && !refused.success)
    #expect(refused.message.contains("SafeModePrecheck failed for allocateBlock"), "\(refused.message)")

    var unknown = SCMBlockLocationRequest()
    unknown.cmdType = .unspecified
    #expect(try await client.block(unknown).status == .unsupportedOperation)
    await harness.shutdown()
  }

  @Test func outOfSafeModeBlockSizesAreCheckedAndNoPipelineIsFound() async throws {
    let harness = try SCMHarness(count: 1, extra: ["hdds.scm.safemode.enabled": "false", "ozone.scm.container.size": "1GB"])
    let scm = try await harness.start(0)
    let client = harness.client([HostAndPort(host: "127.0.0.1", port: scm.blockPort)])
    var allocate = SCMBlockLocationRequest()
    allocate.cmdType = .allocateScmBlock
    allocate.allocateScmBlockRequest.numBlocks = 1
    allocate.allocateScmBlockRequest.size = 2 << 30
    let tooLarge = try await client.block(allocate)
    #expect(tooLarge.status == .invalidBlockSize && tooLarge.message == "Unsupported block size: \(2 << 30)")
    allocate.allocateScmBlockRequest.size = 1 << 20
    #expect(try await client.block(allocate).status == .failedToFindActivePipeline)
    await harness.shutdown()
  }

  @Test func sequenceIDsAreUniqueAndKeepRisingAcrossARestart() async throws {
    let harness = try SCMHarness(count: 1, extra: ["ozone.scm.sequence.id.batch.size": "100"])
    let scm = try await harness.start(0)
    let ids = try await withThrowingTaskGroup(of: [UInt64].self) { group in
      for _ in 0..<4 {
        group.addTask {
          var taken: [UInt64] = []
          for _ in 0..<150 { taken.append(try await scm.sequenceIDs.next(.localId)) }
          return taken
        }
      }
      return try await group.reduce(into: []) { $0 += $1 }
    }
    #expect(ids.count == 600 && Set(ids).count == 600, "no id twice")
    #expect(ids.min() == 1)
    let firstContainer = try await scm.sequenceIDs.next(.containerId)
    #expect(firstContainer == 1, "sequences are independent; the first container is 1")
    await harness.stop(0)

    let restarted = try await harness.start(0)
    let next = try await restarted.sequenceIDs.next(.localId)
    #expect(next > ids.max()!, "after a restart ids continue above every id handed out: \(next)")
    await harness.shutdown()
  }
}

/// Three SCMs: one leads; the others refuse with its address and clients follow it.
@Suite(.watchdog) struct SCMServiceTests {
  /// Leadership may move at any time on a loaded machine, so nothing here assumes the leader seen
  /// at one moment still leads at the next: each answer is checked against itself.
  @Test func followersRefuseWithTheLeadersAddressAndClientsFindIt() async throws {
    let harness = try SCMHarness(count: 3)
    let servers = try await harness.startAll()
    try await waitUntil("an SCM leads", timeout: .seconds(60)) { servers.contains { $0.raft.isLeaderReady } }
    var info = SCMBlockLocationRequest()
    info.cmdType = .getScmInfo

    // A follower refuses, naming a leader by node id and block address (retried while the SCM
    // asked happens to lead).
    var refusal: SCMBlockLocationResponse?
    try await waitUntil("a follower refuses", timeout: .seconds(60)) {
      guard let follower = servers.first(where: { !$0.raft.isLeaderReady }) else { return false }
      let answer = try await oneCall(follower: follower, request: info)
      if answer.status == .scmNotLeader && !answer.leaderScmnodeID.isEmpty { refusal = answer }
      return refusal != nil
    }
    let refused = try #require(refusal)
    let named = try #require(servers.first { $0.settings.service.localNodeID == refused.leaderScmnodeID })
    #expect(refused.leaderAddress == "127.0.0.1:\(named.blockPort)", "\(refused.message)")
    #expect(refused.message.contains("is not the leader. Suggested leader is Server:127.0.0.1:\(named.blockPort)."), "\(refused.message)")

    // A client given every SCM finds one that answers; only a leader answers.
    let answer = try await harness.client(servers.map { HostAndPort(host: "127.0.0.1", port: $0.blockPort) }).block(info)
    #expect(answer.status == .ok, "\(answer.message)")
    #expect(servers.contains { $0.identity.scmID == answer.getScmInfoResponse.scmID })

    var roles = SCMAdminRequest()
    roles.cmdType = .adminGetScmInfo
    let admin = try await harness.client(servers.map { HostAndPort(host: "127.0.0.1", port: $0.clientPort) }).admin(roles)
    let lines = admin.getScmInfoResponse.peerRoles
    #expect(lines.count == 3)
    #expect(lines.filter { $0.contains(":LEADER:") }.count == 1 && lines.filter { $0.contains(":FOLLOWER:") }.count == 2, "\(lines)")
    for server in servers {
      let node = server.settings.service.localNodeID
      #expect(lines.contains { $0.hasPrefix("127.0.0.1:\(server.raftPort):") && $0.hasSuffix(":\(node):127.0.0.1") }, "\(node) in \(lines)")
    }
    await harness.shutdown()
  }

  /// One call to a follower, without following its hint.
  private func oneCall(follower: StorageContainerManagerServer, request: SCMBlockLocationRequest) async throws
    -> SCMBlockLocationResponse
  {
    var client = SCMClient(addresses: [HostAndPort(host: "127.0.0.1", port: follower.blockPort)], group: MultiThreadedEventLoopGroup.singleton)
    client.rounds = 1
    client.followsLeader = false
    return try await client.block(request)
  }
}
