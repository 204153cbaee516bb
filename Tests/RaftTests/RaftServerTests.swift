import Foundation
import Raft
import RaftCore
import Testing

/// The runtime end to end in one process: real threads, real log stores, an in-process network.
@Suite struct RaftServerTests {
  @Test func concurrentProposalsApplyInTheSameOrderEverywhere() async throws {
    let cluster = try await TestCluster(size: 3)
    let leader = try await cluster.waitForLeader()
    let server = cluster.servers[leader]!
    try await withThrowingTaskGroup(of: Void.self) { group in
      for client in 0..<16 {
        group.addTask {
          for operation in 0..<25 {
            let response = try await server.propose(Array("put c\(client) \(operation)".utf8))
            #expect(response == Array("ok".utf8))
          }
        }
      }
      try await group.waitForAll()
    }
    try await cluster.waitForConvergence(count: 400)
    let histories = cluster.machines.values.map(\.history)
    #expect(histories.allSatisfy { $0 == histories[0] }, "every replica applied the same entries in the same order")
    #expect(cluster.machines[leader]!.values["c3"] == "24")
    #expect(cluster.fatalErrors.all.isEmpty)
    await cluster.shutdown()
  }

  @Test func readsAreLinearizableAndOnlyTheLeaderServesThem() async throws {
    let cluster = try await TestCluster(size: 3)
    let leader = try await cluster.waitForLeader()
    _ = try await cluster.put("color", "blue")
    let value = try await cluster.servers[leader]!.query(Array("color".utf8))
    #expect(value == Array("blue".utf8))
    let follower = cluster.servers.keys.first { $0 != leader }!
    await #expect(throws: RaftServerError.self) { try await cluster.servers[follower]!.propose(Array("put a b".utf8)) }
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
}
