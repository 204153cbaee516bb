import Foundation
import Raft
import RaftCore
import O3TestSupport
import Testing

/// The runtime end to end in one process: real threads, real log stores, an in-process network.
@Suite(.watchdog) struct RaftServerTests {
  @Test func concurrentProposalsApplyInTheSameOrderEverywhere() async throws {
    let cluster = try await TestCluster(size: 3)
    // Sixteen clients, each its own sequence of puts, all at once.
    try await withThrowingTaskGroup(of: Void.self) { group in
      for client in 0..<16 {
        group.addTask { [cluster] in
          for operation in 0..<25 {
            let response = try await cluster.put("c\(client)", "\(operation)")
            #expect(response == Array("ok".utf8))
          }
        }
      }
      try await group.waitForAll()
    }
    try await cluster.waitForConvergence(count: 400)
    let histories = cluster.machines.values.map(\.history)
    #expect(histories.allSatisfy { $0.prefix(400) == histories[0].prefix(400) }, "same entries in the same order everywhere")
    #expect(try await cluster.get("c3") == "24")
    #expect(cluster.fatalErrors.all.isEmpty)
    await cluster.shutdown()
  }

  @Test func readsAreLinearizableAndOnlyTheLeaderServesThem() async throws {
    let cluster = try await TestCluster(size: 3)
    _ = try await cluster.put("color", "blue")
    #expect(try await cluster.get("color") == "blue")
    let leader = try await cluster.waitForLeader()
    let follower = cluster.servers.keys.first { $0 != leader }!
    await #expect(throws: RaftServerError.self) { try await cluster.servers[follower]!.propose(Array("put a b".utf8)) }
    await cluster.shutdown()
  }

  @Test func leaseReadsSeeTheLatestAcknowledgedWrite() async throws {
    let cluster = try await TestCluster(size: 3, readMode: .leaseBased)
    for value in 0..<10 {
      _ = try await cluster.put("x", "\(value)")
      #expect(try await cluster.get("x") == "\(value)")
    }
    await cluster.shutdown()
  }

  @Test func anIsolatedLeaderIsReplacedAndCatchesUpAfterHealing() async throws {
    let cluster = try await TestCluster(size: 3)
    let first = try await cluster.waitForLeader()
    _ = try await cluster.put("k", "1")
    cluster.network.isolate(first)
    let second = try await cluster.waitForLeader(excluding: [first])
    #expect(second != first)
    _ = try await cluster.servers[second]!.propose(Array("put k 2".utf8))
    cluster.network.heal(first)
    try await cluster.waitForConvergence(count: 2)
    #expect(cluster.machines[first]!.values["k"] == "2", "the old leader applied the new leader's write")
    let status = try #require(await cluster.servers[second]!.status())
    #expect(status.core.role == .leader)
    await cluster.shutdown()
  }

  @Test func aRestartedFollowerCatchesUpFromItsLogAndTheLeader() async throws {
    let cluster = try await TestCluster(size: 3)
    let leader = try await cluster.waitForLeader()
    let follower = cluster.servers.keys.first { $0 != leader }!
    for value in 0..<20 { _ = try await cluster.put("a", "\(value)") }
    await cluster.stop(follower)
    for value in 20..<40 { _ = try await cluster.put("b", "\(value)") }
    try await cluster.start(follower)
    try await cluster.waitForConvergence(count: 40)
    #expect(cluster.machines[follower]!.values == cluster.machines[leader]!.values)
    #expect(cluster.machines[follower]!.installedCheckpoints == 0, "the leader still had every entry")
    await cluster.shutdown()
  }

  @Test func aFollowerBehindThePurgedLogInstallsACheckpoint() async throws {
    let cluster = try await TestCluster(size: 3, segmentSizeBytes: 512, purgeGap: 5, snapshotThreshold: 10)
    let leader = try await cluster.waitForLeader()
    let follower = cluster.servers.keys.first { $0 != leader }!
    await cluster.stop(follower)
    for value in 0..<150 { _ = try await cluster.put("k\(value % 7)", "\(value)") }
    let leaderLog = try #require(cluster.logs[leader])
    #expect(leaderLog.firstIndex > 10, "the leader purged its log behind its state machine")
    try await cluster.start(follower)
    try await cluster.waitUntil("the follower catches up") {
      cluster.machines[follower]!.values == cluster.machines[leader]!.values
    }
    #expect(cluster.machines[follower]!.installedCheckpoints >= 1)
    _ = try await cluster.put("after", "install")
    try await cluster.waitUntil("replication resumes after the installed index") {
      cluster.machines[follower]!.values["after"] == "install"
    }
    await cluster.shutdown()
  }
}
