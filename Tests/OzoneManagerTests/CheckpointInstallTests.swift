import Foundation
import OMMetadata
import OMProto
import OzoneManager
import O3TestSupport
import Testing

/// A follower whose log ends before the leader's purged log catches up from the leader's
/// RocksDB checkpoint, over the real HTTP endpoint and Raft links.
@Suite(.watchdog, .serialized) struct CheckpointInstallTests {
  static let purgingConfiguration = BehindFollower.purgingConfiguration

  /// `request` with its own call id, so that the retry cache does not answer it as a retry.
  static func distinct(_ request: OMRequest, _ callID: Int) -> OMRequest {
    var request = request
    request.callID = UInt64(callID)
    return request
  }

  @Test func aFollowerBehindThePurgedLogInstallsTheLeadersCheckpoint() async throws {
    let cluster = try await OMCluster.start(configuration: Self.purgingConfiguration, fixedHTTPPorts: true)
    let leader = try await cluster.leader()
    let follower = OMCluster.nodeIDs.first { $0 != leader }!
    try await cluster.expectOKOnLeader(Requests.createVolume("before"))
    try await cluster.waitUntil("the follower holds the first volume") {
      try cluster.digest(follower) == cluster.digest(leader)
    }
    let followerLastIndex = try #require(await cluster.servers[follower]!.raft.status()).core.lastIndex
    await cluster.stop(follower)

    for number in 1...150 {
      try await cluster.expectOKOnLeader(Self.distinct(Requests.createVolume("volume\(number)"), 2 * number))
      #expect(
        try await cluster.submitToLeader(Self.distinct(Requests.createBucket("volume\(number)", "bucket"), 2 * number + 1))
          .status == .ok)
    }
    try await cluster.waitUntil("the leader purges the entries the follower lacks") {
      (await cluster.servers[leader]!.raft.status()?.core.firstIndex ?? 0) > followerLastIndex + 1
    }

    try await cluster.start(follower)
    try await cluster.waitUntil("the follower installs a checkpoint and holds the leader's tables") {
      let applied = await cluster.servers[follower]!.raft.status()?.applied.index ?? 0
      return try cluster.servers[follower]!.installedCheckpointCount > 0 && cluster.digest(follower) == cluster.digest(leader)
        && applied > followerLastIndex + 1
    }
    #expect(cluster.servers[follower]!.installedCheckpointCount == 1, "one checkpoint, then the log")
    let followerStatus = try #require(await cluster.servers[follower]!.raft.status())
    #expect(followerStatus.applied.index > followerLastIndex + 1, "it stands past the entries it could not get")
    #expect(try cluster.digest(follower).contains { $0.table == "volumeTable" && $0.key == Array("/volume150".utf8) })

    // Entries after the checkpoint still apply on the follower, over the installed database.
    try await cluster.expectOKOnLeader(Self.distinct(Requests.createVolume("after"), 1_000))
    try await cluster.waitUntil("the follower applies a write made after the install") {
      try cluster.digest(follower) == cluster.digest(leader)
        && cluster.digest(follower).contains { $0.table == "volumeTable" && $0.key == Array("/after".utf8) }
    }
    #expect(cluster.fatalErrors.recorded.isEmpty)
    await cluster.shutdown()
  }

  /// The retry cache is kept across an install (see `RetryCache`): a retry of a write this OM
  /// applied before it fell behind is still answered with the first attempt's answer once it
  /// leads, while a write it never applied (inside the checkpoint) has no cached answer and is
  /// run again.
  @Test func theRetryCacheKeepsItsAnswersAcrossAnInstall() async throws {
    let scenario = try await BehindFollower.make(absence: .isolated)
    let cluster = scenario.cluster
    cluster.heal()
    try await scenario.waitForInstall()
    let follower = OMServiceConfiguration.peerID(of: scenario.follower)
    try await cluster.servers[scenario.leader]!.raft.transferLeadership(to: follower)
    let newLeader = try await cluster.leader(among: [scenario.follower])
    #expect(newLeader == scenario.follower)

    let retried = try await cluster.submit(Requests.createVolume("before"), to: scenario.follower)
    #expect(retried.status == .ok, "answered from the cache: running it again would say the volume exists")
    let superseded = try await cluster.submit(Self.distinct(Requests.createVolume("volume7"), 14), to: scenario.follower)
    #expect(superseded.status == .volumeAlreadyExists, "applied only inside the checkpoint: no cached answer here")
    #expect(cluster.fatalErrors.recorded.isEmpty)
    await cluster.shutdown()
  }

  @Test func theRaftMembershipIsRecordedInTheDatabase() async throws {
    let cluster = try await OMCluster.start()
    _ = try await cluster.leader()
    try await cluster.expectOKOnLeader(Requests.createVolume("volume"))
    try await cluster.waitUntil("every replica records the membership") {
      try OMCluster.nodeIDs.allSatisfy { node in
        try cluster.digest(node).contains { $0.table == "metaTable" && $0.key == Array("#RAFTMEMBERSHIP".utf8) }
      }
    }
    let records = try OMCluster.nodeIDs.map { node in
      try cluster.digest(node).first { $0.table == "metaTable" && $0.key == Array("#RAFTMEMBERSHIP".utf8) }
    }
    #expect(Set(records.map { $0?.value }).count == 1, "every replica records the same membership")
    // Format byte, voter count, three 8-byte voters, learner count (no learners).
    let expectedBytes: Int = 1 + 4 + 24 + 4
    #expect(records[0]?.value.count == expectedBytes)
    await cluster.shutdown()
  }
}
