import Foundation
import Logging
import NIOPosix
import O3Common
import O3Service
import O3TestSupport
import Raft
import RaftCore
import Synchronization
import Testing

/// Three hosts in this process, each one Raft port for several groups, as three datanodes host
/// their pipelines: groups added and removed at runtime, recovered at restart, and a group that
/// fails stopping alone.
@Suite(.watchdog, .timeLimit(.minutes(3))) struct RaftMultiGroupHostTests {
  private static let first = RaftGroupID(high: 0x6f33_6b76_0000_0000, low: 1)
  private static let second = RaftGroupID(high: 0x6f33_6b76_0000_0000, low: 2)

  @Test func aGroupAddedOnThreeHostsElectsALeaderThatCommitsAndIsAddedOnce() async throws {
    let cluster = try await HostCluster.start()
    defer { cluster.removeDirectories() }
    for host in cluster.hosts {
      try await host.addGroup(cluster.spec(Self.first))
    }
    #expect(try await cluster.propose("a", in: Self.first) == "1")
    let again = await #expect(throws: RaftGroupHostError.self) { try await cluster.hosts[0].addGroup(cluster.spec(Self.first)) }
    #expect(again?.code == .alreadyExists)
    for host in cluster.hosts {
      #expect(host.groups == [Self.first])
      #expect(host.port > 0)
    }
    await cluster.shutdown()
  }

  @Test func removingAGroupOnEveryHostDeletesItsDirectoriesAndTheOtherGroupKeepsCommitting() async throws {
    let cluster = try await HostCluster.start()
    defer { cluster.removeDirectories() }
    for host in cluster.hosts {
      try await host.addGroup(cluster.spec(Self.first))
      try await host.addGroup(cluster.spec(Self.second))
    }
    #expect(try await cluster.propose("a", in: Self.first) == "1")
    #expect(try await cluster.propose("b", in: Self.second) == "1")
    for host in cluster.hosts {
      try await host.removeGroup(Self.first)
    }
    for (host, root) in zip(cluster.hosts, cluster.roots) {
      #expect(host.groups == [Self.second])
      #expect(!FileManager.default.fileExists(atPath: root + "/" + Self.first.uuidText))
      #expect(try RaftGroupDirectories(root: root, logger: Logger(label: "test")).scan() == [Self.second])
    }
    #expect(try await cluster.propose("c", in: Self.second) == "2")
    let readded = await #expect(throws: RaftGroupHostError.self) { try await cluster.hosts[0].addGroup(cluster.spec(Self.first)) }
    #expect(readded?.code == .removedEarlier)
    let removedTwice = await #expect(throws: RaftGroupHostError.self) { try await cluster.hosts[0].removeGroup(Self.first) }
    #expect(removedTwice?.code == .notFound)
    await cluster.shutdown()
  }

  @Test func hostsRestartedOnTheirRootsAndPortsRecoverEveryGroupFromDisk() async throws {
    var cluster = try await HostCluster.start()
    defer { cluster.removeDirectories() }
    for host in cluster.hosts {
      try await host.addGroup(cluster.spec(Self.first))
      try await host.addGroup(cluster.spec(Self.second))
    }
    for expected in 1...3 {
      #expect(try await cluster.propose("a\(expected)", in: Self.first) == "\(expected)")
    }
    #expect(try await cluster.propose("b", in: Self.second) == "1")
    await cluster.shutdown()

    try await cluster.restart()
    for host in cluster.hosts {
      #expect(host.groups == [Self.first, Self.second])
      #expect(host.failedGroups.isEmpty)
    }
    // The state machines keep nothing: each replays its group's log, so counts go on.
    #expect(try await cluster.propose("a4", in: Self.first) == "4")
    #expect(try await cluster.propose("b2", in: Self.second) == "2")
    #expect(cluster.failures.groups.isEmpty)
    await cluster.shutdown()
  }

  @Test func aGroupWhoseStateMachineFailsStopsAloneIsReportedAndCanBeRemoved() async throws {
    let cluster = try await HostCluster.start(failingGroup: Self.first)
    defer { cluster.removeDirectories() }
    for host in cluster.hosts {
      try await host.addGroup(cluster.spec(Self.first))
      try await host.addGroup(cluster.spec(Self.second))
    }
    #expect(try await cluster.propose("fine", in: Self.first) == "1")
    let leader = try await cluster.leader(of: Self.first)
    leader.propose(Array(FailingStateMachine.poison.utf8)) { _ in }
    try await waitUntil("every host stopped and reported the failed group") {
      cluster.failures.groups.count == 3
        && cluster.hosts.allSatisfy { $0.failedGroups == [Self.first] && $0.groups == [Self.second] }
    }
    #expect(cluster.failures.groups == [Self.first, Self.first, Self.first])
    #expect(try await cluster.propose("b", in: Self.second) == "1")
    for (host, root) in zip(cluster.hosts, cluster.roots) {
      #expect(FileManager.default.fileExists(atPath: root + "/" + Self.first.uuidText), "kept until removed")
      try await host.removeGroup(Self.first)
      #expect(!FileManager.default.fileExists(atPath: root + "/" + Self.first.uuidText))
      #expect(host.failedGroups.isEmpty)
    }
    await cluster.shutdown()
  }

  @Test func badSpecsAreRefusedAndCreateNothingWhileAOneMemberGroupLeadsAtOnce() async throws {
    let cluster = try await HostCluster.start(hostCount: 1)
    defer { cluster.removeDirectories() }
    let host = cluster.hosts[0]
    let address = "127.0.0.1:\(cluster.ports[0])"
    let bad: [(RaftGroupSpec, String)] = [
      (RaftGroupSpec(id: Self.first, members: []), "no members"),
      (RaftGroupSpec(id: Self.first, members: [.init(peer: 2, address: address)]), "do not include this peer"),
      (RaftGroupSpec(id: Self.first, members: [.init(peer: 1, address: address), .init(peer: 1, address: address)]), "twice"),
      (RaftGroupSpec(id: Self.first, members: [.init(peer: 1, address: "nowhere")]), "not host:port"),
      (RaftGroupSpec(id: Self.first, members: [.init(peer: 1, address: "127.0.0.1:1 2")]), "not host:port"),
    ]
    for (spec, words) in bad {
      let error = await #expect(throws: RaftGroupHostError.self) { try await host.addGroup(spec) }
      #expect(error?.code == .invalidSpec)
      #expect(error?.message.contains(words) == true, "\(error?.message ?? "")")
      #expect(try FileManager.default.contentsOfDirectory(atPath: cluster.roots[0]).isEmpty)
      #expect(host.groups.isEmpty)
    }
    let unknown = await #expect(throws: RaftGroupHostError.self) { try await host.removeGroup(Self.second) }
    #expect(unknown?.code == .notFound)

    try await host.addGroup(RaftGroupSpec(id: Self.second, members: [.init(peer: 1, address: address)]))
    #expect(try await cluster.propose("solo", in: Self.second) == "1")
    await cluster.shutdown()
  }
}

/// Hosts 1...n on ports from `FreePorts`, each with its own root directory, counting state
/// machines (one group may get a failing one instead) and a record of reported failures.
private struct HostCluster {
  var hosts: [RaftMultiGroupHost]
  let roots: [String]
  let ports: [Int]
  let failures = FailureLog()
  let failingGroup: RaftGroupID?
  private let base: String

  static func start(hostCount: Int = 3, failingGroup: RaftGroupID? = nil) async throws -> HostCluster {
    let base = FileManager.default.temporaryDirectory.appendingPathComponent("o3-multigroup-\(UUID().uuidString)").path
    let ports = try FreePorts.allocate(hostCount)
    var cluster = HostCluster(
      hosts: [], roots: (1...hostCount).map { "\(base)/dn\($0)" }, ports: ports, failingGroup: failingGroup, base: base)
    try await cluster.restart()
    return cluster
  }

  private init(hosts: [RaftMultiGroupHost], roots: [String], ports: [Int], failingGroup: RaftGroupID?, base: String) {
    self.hosts = hosts
    self.roots = roots
    self.ports = ports
    self.failingGroup = failingGroup
    self.base = base
  }

  /// Starts every host on its root and port (again, after `shutdown`).
  mutating func restart() async throws {
    hosts = []
    for index in roots.indices {
      hosts.append(try await startHost(index))
    }
  }

  private func startHost(_ index: Int) async throws -> RaftMultiGroupHost {
    let peer = PeerID(UInt64(index + 1))
    var raft = RaftServerConfiguration(raft: RaftConfiguration(id: peer))
    raft.tickMilliseconds = 50
    let settings = RaftMultiGroupHost.Settings(
      rootDirectory: roots[index], segmentSizeBytes: 1 << 20,
      listenAddress: HostAndPort(host: "127.0.0.1", port: ports[index]), listenAddressKey: "hdds.container.ratis.ipc.port",
      localPeer: peer, raft: raft)
    let failingGroup = self.failingGroup
    let failures = self.failures
    return try await RaftMultiGroupHost.start(
      settings,
      stateMachines: { group -> any ReplicatedStateMachine in
        if group == failingGroup { return FailingStateMachine() }
        return CountingStateMachine()
      },
      eventLoopGroup: MultiThreadedEventLoopGroup.singleton, logger: Logger(label: "multigroup-\(peer)"),
      onGroupFailure: { group, _ in failures.record(group) })
  }

  /// The spec of `group` with every host as a founding member.
  func spec(_ group: RaftGroupID) -> RaftGroupSpec {
    RaftGroupSpec(
      id: group,
      members: ports.indices.map { .init(peer: PeerID(UInt64($0 + 1)), address: "127.0.0.1:\(ports[$0])") })
  }

  /// The ready leader of `group`, once there is one.
  func leader(of group: RaftGroupID) async throws -> RaftServer {
    var leader: RaftServer?
    try await waitUntil("group \(group) has a ready leader") {
      leader = hosts.compactMap { $0.server(for: group) }.first { $0.isLeaderReady }
      return leader != nil
    }
    return leader!
  }

  /// Proposes `text` in `group` on its leader (again on another if leadership moves before the
  /// entry is appended) and returns the state machine's answer.
  func propose(_ text: String, in group: RaftGroupID) async throws -> String {
    var response: [UInt8]?
    try await waitUntil("a leader of group \(group) applied \(text)") {
      let server = try await self.leader(of: group)
      do {
        response = try await server.propose(Array(text.utf8))
        return true
      } catch let error as RaftServerError {
        switch error {
        case .notLeader, .leaderNotReady: return false
        default: throw error
        }
      }
    }
    return String(decoding: response!, as: UTF8.self)
  }

  func shutdown() async {
    for host in hosts {
      await host.shutdown()
    }
  }

  func removeDirectories() {
    try? FileManager.default.removeItem(atPath: base)
  }
}

/// The groups `onGroupFailure` named, in order.
private final class FailureLog: Sendable {
  private let recorded = Mutex<[RaftGroupID]>([])

  func record(_ group: RaftGroupID) {
    recorded.withLock { $0.append(group) }
  }

  var groups: [RaftGroupID] { recorded.withLock { $0 } }
}

/// Counts like `CountingStateMachine`, and fails to apply the poison entry: a state machine
/// error, fatal to its replica.
private final class FailingStateMachine: ReplicatedStateMachine {
  static let poison = "poison"
  private let counting = CountingStateMachine()

  struct Poisoned: Error, CustomStringConvertible {
    var description: String { "the state machine refuses the poison entry" }
  }

  func apply(_ entries: ArraySlice<CommittedEntry>) throws -> [[UInt8]] {
    if entries.contains(where: { $0.data == Array(Self.poison.utf8) }) { throw Poisoned() }
    return try counting.apply(entries)
  }

  var durablyAppliedIndex: TermIndex { counting.durablyAppliedIndex }
  func takeSnapshot() throws -> TermIndex { try counting.takeSnapshot() }
  func takePurgeRequest() -> TermIndex? { counting.takePurgeRequest() }
  func installSnapshotFromLeader(leader: PeerID, firstLogIndex: TermIndex) async throws -> InstalledCheckpoint {
    try await counting.installSnapshotFromLeader(leader: leader, firstLogIndex: firstLogIndex)
  }
  func leaderChanged(to leader: PeerID?, term: UInt64) {}
  func query(_ request: [UInt8]) throws -> [UInt8] { try counting.query(request) }
}
