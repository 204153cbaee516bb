import Foundation
import OMDomain
import OMMetadata
import OMProto
import OzoneManager
import O3TestSupport
import Testing

/// A client-chosen number must never stop the OM: a trap in apply would stop every replica on
/// the same entry, and a restart would replay it. Each case runs in a child process (an exit
/// test) so that a regression shows as a failed test, not a crashed test run.
@Suite(.watchdog, .ownThreads) struct ArithmeticOverflowTests {
  /// KeyRequestSupport.replicatedBytes: `dataSize × replicationFactor`, dataSize unchecked.
  @Test func aSizeWhoseReplicasOverflowDoesNotStopTheOM() async {
    await #expect(processExitsWith: .success) {
      let om = try OMHarness("replicatedOverflow")
      try om.makeBucket()
      let session = try om.succeed(Requests.createKey("vol1", "bucket1", "huge")).createKeyResponse.clientID
      try om.submit(Requests.commitKey("vol1", "bucket1", "huge", session: session, dataSize: UInt64.max / 2))
    }
  }

  /// CommitKey.apply: `usedBytes - removed + added`.
  @Test func usageThatWouldOverflowDoesNotStopTheOM() async {
    await #expect(processExitsWith: .success) {
      let om = try OMHarness("usageOverflow")
      try om.makeBucket()
      for name in ["first", "second"] {
        let session = try om.succeed(Requests.createKey("vol1", "bucket1", name, factor: 1)).createKeyResponse.clientID
        try om.submit(Requests.commitKey("vol1", "bucket1", name, session: session, dataSize: UInt64(1) << 63))
      }
    }
  }

  /// BucketQuotas.checkFitsVolume: the sum of the volume's bucket quotas plus the new one.
  @Test func bucketQuotasThatSumPastInt64DoNotStopTheOM() async {
    await #expect(processExitsWith: .success) {
      let om = try OMHarness("bucketQuotaSum")
      try om.succeed(Requests.createVolume("vol1", quotaInBytes: Int64.max))
      try om.succeed(Requests.createBucket("vol1", "bucket1", quotaInBytes: Int64.max))
      try om.submit(Requests.createBucket("vol1", "bucket2", quotaInBytes: 1))
    }
  }

  /// SetVolumeProperty.apply: the sum of the volume's bucket quotas.
  @Test func aVolumeQuotaOverHugeBucketQuotasDoesNotStopTheOM() async {
    await #expect(processExitsWith: .success) {
      let om = try OMHarness("volumeQuotaSum")
      try om.succeed(Requests.createVolume("vol1"))
      try om.succeed(Requests.createBucket("vol1", "bucket1", quotaInBytes: Int64.max))
      try om.succeed(Requests.createBucket("vol1", "bucket2", quotaInBytes: Int64.max))
      try om.submit(Requests.setVolumeProperty("vol1", quotaInBytes: 1))
    }
  }

  /// Large values that fit are stored and counted exactly.
  @Test func largeValuesThatFitAreCountedExactly() throws {
    let om = try OMHarness()
    try om.succeed(Requests.createVolume("vol1", quotaInBytes: Int64.max))
    try om.succeed(Requests.createBucket("vol1", "bucket1", quotaInBytes: Int64.max))
    try om.putKey("vol1", "bucket1", "large", dataSize: UInt64(1) << 60, factor: 3)
    #expect(try om.bucket("vol1", "bucket1")?.usedBytes == 3 << 60)
    try om.succeed(Requests.deleteKey("vol1", "bucket1", "large"))
    #expect(try om.bucket("vol1", "bucket1")?.usedBytes == 0)
  }
}
