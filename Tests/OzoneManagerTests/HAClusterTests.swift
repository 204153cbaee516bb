import Foundation
import OMMetadata
import OMProto
import OzoneManager
import O3TestSupport
import Testing

/// Three OMs in one process over real RaftRPC links (through proxies a test can cut).
@Suite(.watchdog, .serialized) struct HAClusterTests {
  @Test func writesReplicateAndFollowersRedirectToTheLeader() async throws {
    let cluster = try await OMCluster.start()
    let leader = try await cluster.leader()
    try await cluster.expectOKOnLeader(Requests.createVolume("vol1"))
    let follower = OMCluster.nodeIDs.first { $0 != leader }!
    let redirect = try await cluster.submit(Requests.createVolume("vol2"), to: follower)
    #expect(redirect.status == .notLeader)
    #expect(redirect.leaderOmnodeID == leader)
    #expect(redirect.leaderAddress == cluster.clientAddress(leader))
    var followerRead = Requests.infoVolume("vol1")
    followerRead.readConsistencyHint = .linearizableAllowFollower
    let read = try await cluster.submit(followerRead, to: follower)
    #expect(read.status == .ok, "a follower serves a read the client allowed, after a ReadIndex round")
    #expect(read.infoVolumeResponse.volumeInfo.volume == "vol1")
    try await cluster.waitUntil("every replica holds the same tables") {
      let digests = try OMCluster.nodeIDs.map { try cluster.digest($0) }
      return digests.allSatisfy { $0 == digests[0] } && !digests[0].isEmpty
    }
    #expect(cluster.fatalErrors.recorded.isEmpty)
    await cluster.shutdown()
  }

  @Test func aPartitionedOldLeaderCannotServeAStaleRead() async throws {
    let cluster = try await OMCluster.start()
    let oldLeader = try await cluster.leader()
    try await cluster.expectOK(Requests.createVolume("vol1", owner: "before"), to: oldLeader)
    cluster.isolate(oldLeader)
    let others = OMCluster.nodeIDs.filter { $0 != oldLeader }
    let newLeader = try await cluster.leader(among: others)
    try await cluster.expectOK(Requests.setVolumeProperty("vol1", owner: "after"), to: newLeader)
    // The old leader may still believe it leads; a linearizable read must not answer "before".
    let stale = try await cluster.submit(Requests.infoVolume("vol1"), to: oldLeader)
    #expect(stale.status != .ok || stale.infoVolumeResponse.volumeInfo.ownerName == "after", "stale read: \(stale)")
    cluster.heal()
    try await cluster.waitUntil("the old leader catches up") {
      try cluster.digest(oldLeader) == cluster.digest(newLeader)
    }
    await cluster.shutdown()
  }

  @Test func aRetriedWriteIsAnsweredWithItsFirstAnswerAndAppliedOnce() async throws {
    let cluster = try await OMCluster.start()
    _ = try await cluster.leader()
    var request = Requests.createVolume("vol1")
    request.clientID = "client-retry"
    request.callID = 7
    let first = try await cluster.submitToLeader(request)
    let retry = try await cluster.submitToLeader(request)
    #expect(first.status == .ok)
    #expect(retry == first, "the retry gets the first answer, not VOLUME_ALREADY_EXISTS")
    var other = request
    other.callID = 8
    #expect(try await cluster.submitToLeader(other).status == .volumeAlreadyExists)
    // A retry that reaches a new leader is answered from that replica's cache too.
    let leaderNow = try await cluster.leader()
    await cluster.stop(leaderNow)
    let next = try await cluster.leader(among: OMCluster.nodeIDs.filter { $0 != leaderNow })
    #expect(try await cluster.submit(request, to: next) == first)
    await cluster.shutdown()
  }

  @Test func aRestartedOMReplaysItsLogToTheSameState() async throws {
    let cluster = try await OMCluster.start()
    let leader = try await cluster.leader()
    let follower = OMCluster.nodeIDs.first { $0 != leader }!
    try await cluster.expectOKOnLeader(Requests.createVolume("vol1"))
    await cluster.stop(follower)
    for bucket in ["bkt-1", "bkt-2", "bkt-3"] {
      try await cluster.expectOKOnLeader(Requests.createBucket("vol1", bucket))
    }
    try await cluster.start(follower)
    try await cluster.waitUntil("the restarted follower matches the leader") {
      try cluster.digest(follower) == cluster.digest(leader)
    }
    await cluster.shutdown()
  }
}
