import Foundation
import RaftCore
import O3TestSupport
import Testing

@testable import Raft

/// A replica whose Raft log disk fills up (ENOSPC injected into its log's writes) keeps running:
/// it holds the Ready it could not persist, sends nothing, refuses new requests, retries with a
/// backoff, and catches up once space returns. The others carry on meanwhile.
@Suite(.watchdog) struct FullDiskRuntimeTests {
  @Test func aFollowerWithAFullDiskSendsNothingUntilSpaceReturnsThenCatchesUp() async throws {
    let cluster = try await TestCluster(size: 3)
    let leader = try await cluster.waitForLeader()
    _ = try await cluster.put("k", "0")
    let follower = cluster.servers.keys.first { $0 != leader }!
    let server = try #require(cluster.servers[follower])
    let log = try #require(cluster.logs[follower] as? DurableRaftLog)
    log.writeFaults.failWrites()
    _ = try await cluster.put("k", "1")
    try await cluster.waitUntil("the follower hit the full disk") { server.statistics.persistAttemptsFailed >= 1 }
    let sentWhenStalled = cluster.network.sentCount(from: follower)
    let lastIndexWhenStalled = log.lastIndex
    for value in 2..<10 { _ = try await cluster.put("k", "\(value)") }
    try await cluster.waitUntil("the follower retried") { server.statistics.persistAttemptsFailed >= 3 }
    #expect(cluster.network.sentCount(from: follower) == sentWhenStalled, "no message left the stalled follower")
    #expect(log.lastIndex == lastIndexWhenStalled, "every failed append was undone")
    let applied = cluster.machines[follower]!.history.last?.index ?? 0
    #expect(applied <= log.durableLastIndex, "nothing beyond the durable log was applied")
    let refusal = await #expect(throws: RaftServerError.self) { try await server.query(Array("k".utf8)) }
    if case .notLeader = refusal {} else { Issue.record("expected not-leader, got \(String(describing: refusal))") }

    log.writeFaults.clear()
    try await cluster.waitUntil("the follower caught up") { cluster.machines[follower]!.values["k"] == "9" }
    #expect(cluster.network.sentCount(from: follower) > sentWhenStalled, "it answers again")
    try await cluster.waitForConvergence(count: 10)
    let histories = cluster.machines.values.map(\.history)
    #expect(histories.allSatisfy { $0.prefix(10) == histories[0].prefix(10) })
    #expect(cluster.fatalErrors.all.isEmpty, "a full disk is not fatal: \(cluster.fatalErrors.all)")
    await cluster.shutdown()
  }

  @Test func aLeaderWithAFullDiskIsReplacedRefusesProposalsAndCatchesUpAsAFollower() async throws {
    let cluster = try await TestCluster(size: 3)
    let first = try await cluster.waitForLeader()
    _ = try await cluster.put("k", "0")
    let server = try #require(cluster.servers[first])
    let faults = try #require(cluster.logs[first] as? DurableRaftLog).writeFaults
    faults.failWrites()
    // This proposal's entry is what the full disk refuses; its outcome is unknown (it may time
    // out, or be overwritten by the next leader), so it is not awaited.
    server.propose(Array("put lost maybe".utf8)) { _ in }
    try await cluster.waitUntil("the leader hit the full disk") { server.statistics.persistAttemptsFailed >= 1 }
    let sentWhenStalled = cluster.network.sentCount(from: first)
    let second = try await cluster.waitForLeader(excluding: [first])
    for value in 1..<10 { _ = try await cluster.put("k", "\(value)") }
    let refusal = await #expect(throws: RaftServerError.self) { try await server.propose(Array("put k refused".utf8)) }
    if case .notLeader = refusal {} else { Issue.record("expected not-leader, got \(String(describing: refusal))") }
    #expect(cluster.network.sentCount(from: first) == sentWhenStalled, "no message left the stalled leader")

    faults.clear()
    try await cluster.waitUntil("the old leader caught up") { cluster.machines[first]!.values["k"] == "9" }
    let status = try #require(await server.status())
    #expect(status.core.role != .leader, "the stale leader stepped down")
    try await cluster.waitUntil("the replicas agree") { cluster.machines[first]!.values == cluster.machines[second]!.values }
    #expect(cluster.fatalErrors.all.isEmpty, "a full disk is not fatal: \(cluster.fatalErrors.all)")
    await cluster.shutdown()
  }

  @Test func theBackoffDoublesUpToItsMaximumAndCountsWholeTicks() {
    var backoff = PersistRetryBackoff(initialMilliseconds: 100, maximumMilliseconds: 5_000)
    let delays = (0..<8).map { _ in backoff.nextDelayMilliseconds() }
    #expect(delays == [100, 200, 400, 800, 1_600, 3_200, 5_000, 5_000])
    var ticks = PersistRetryBackoff(initialMilliseconds: 100, maximumMilliseconds: 5_000)
    #expect((0..<4).map { _ in ticks.nextDelayTicks(tickMilliseconds: 500) } == [1, 1, 1, 2])
    #expect(ticks.nextDelayTicks(tickMilliseconds: 50) == 32)
  }
}
