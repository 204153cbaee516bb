import OMMetadata
import OMProto
import OzoneManager
import O3TestSupport
import Testing

/// Quotas are enforced in apply, against the state at that log index: volume namespace (buckets),
/// bucket namespace (keys), bucket space (replicated bytes), and the rule that bucket space
/// quotas fit inside their volume's. A refused request changes nothing.
@Suite(.watchdog, .ownThreads) struct QuotaTests {
  /// Submits a request that must be refused with `status` and leave every table as it was.
  private func expectRefusedUnchanged(
    _ om: OMHarness, _ request: OMRequest, _ status: Status, sourceLocation: SourceLocation = #_sourceLocation
  ) throws {
    let before = try om.fingerprint()
    let response = try om.submit(request)
    #expect(response.status == status, "\(response.message)", sourceLocation: sourceLocation)
    #expect(!response.message.isEmpty, sourceLocation: sourceLocation)
    let after = try om.fingerprint()
    #expect(after.rows == before.rows, sourceLocation: sourceLocation)
    #expect(after.visible == before.visible, sourceLocation: sourceLocation)
  }

  @Test func volumeNamespaceQuotaLimitsItsBuckets() throws {
    let om = try OMHarness()
    try om.succeed(Requests.createVolume("vol1", quotaInNamespace: 2))
    try om.succeed(Requests.createBucket("vol1", "bucket1"))
    try om.succeed(Requests.createBucket("vol1", "bucket2"))
    try expectRefusedUnchanged(om, Requests.createBucket("vol1", "bucket3"), .quotaExceeded)
    try om.succeed(Requests.deleteBucket("vol1", "bucket1"))
    #expect(try om.submit(Requests.createBucket("vol1", "bucket3")).status == .ok, "deleting a bucket frees its slot")
  }

  @Test func bucketSpaceQuotasMustFitTheVolumeSpaceQuota() throws {
    let om = try OMHarness()
    try om.succeed(Requests.createVolume("vol1", quotaInBytes: 1_000))
    try om.succeed(Requests.createBucket("vol1", "bucket-a", quotaInBytes: 600))
    try expectRefusedUnchanged(om, Requests.createBucket("vol1", "bucket-b", quotaInBytes: 500), .quotaExceeded)
    try om.succeed(Requests.createBucket("vol1", "bucket-b", quotaInBytes: 400))
    var raise = Requests.bucketProperties("vol1", "bucket-a")
    raise.quotaInBytes = 700
    try expectRefusedUnchanged(om, Requests.setBucketProperty(raise), .quotaExceeded)
    raise.quotaInBytes = 600
    #expect(try om.submit(Requests.setBucketProperty(raise)).status == .ok, "a bucket does not count against itself")
  }

  @Test func volumeQuotasCannotDropBelowWhatItsBucketsHold() throws {
    let om = try OMHarness()
    try om.succeed(Requests.createVolume("vol1"))
    try om.succeed(Requests.createBucket("vol1", "bucket1", quotaInBytes: 300))
    try om.succeed(Requests.createBucket("vol1", "bucket2", quotaInBytes: 300))
    try expectRefusedUnchanged(om, Requests.setVolumeProperty("vol1", quotaInBytes: 500), .quotaExceeded)
    try expectRefusedUnchanged(om, Requests.setVolumeProperty("vol1", quotaInNamespace: 1), .quotaExceeded)
    try om.succeed(Requests.setVolumeProperty("vol1", quotaInBytes: 600, quotaInNamespace: 2))
    let volume = try #require(try om.volume("vol1"))
    #expect(volume.quotaInBytes == 600 && volume.quotaInNamespace == 2)
  }

  /// Apply refuses the whole request: the owner change that came with a refused quota is dropped.
  @Test func aRefusedQuotaChangeAppliesNoneOfItsOtherChanges() throws {
    let om = try OMHarness()
    try om.succeed(Requests.createVolume("vol1", owner: "dave"))
    try om.succeed(Requests.createBucket("vol1", "bucket1"))
    try om.succeed(Requests.createBucket("vol1", "bucket2"))
    try om.putKey("vol1", "bucket1", "a", dataSize: 10)
    try expectRefusedUnchanged(om, Requests.setVolumeProperty("vol1", owner: "erin", quotaInNamespace: 1), .quotaExceeded)
    var change = Requests.bucketProperties("vol1", "bucket1")
    change.owner = "erin"
    change.isVersionEnabled = true
    change.quotaInBytes = 29
    try expectRefusedUnchanged(om, Requests.setBucketProperty(change), .quotaError)
    #expect(try om.volume("vol1")?.ownerName == "dave")
    #expect(try om.bucket("vol1", "bucket1")?.owner == "alice")
  }

  @Test func bucketNamespaceQuotaCountsCommittedKeys() throws {
    let om = try OMHarness()
    try om.succeed(Requests.createVolume("vol1"))
    try om.succeed(Requests.createBucket("vol1", "bucket1", quotaInNamespace: 2))
    try om.putKey("vol1", "bucket1", "a")
    let sessionB = try om.succeed(Requests.createKey("vol1", "bucket1", "b")).createKeyResponse.clientID
    let sessionC = try om.succeed(Requests.createKey("vol1", "bucket1", "c")).createKeyResponse.clientID
    try om.succeed(Requests.commitKey("vol1", "bucket1", "b", session: sessionB, dataSize: 0))
    try expectRefusedUnchanged(
      om, Requests.commitKey("vol1", "bucket1", "c", session: sessionC, dataSize: 0), .quotaExceeded)
    #expect(try om.openKey("vol1", "bucket1", "c", session: sessionC) != nil, "the refused session stays open")
    try expectRefusedUnchanged(om, Requests.createKey("vol1", "bucket1", "d"), .quotaExceeded)
    try om.putKey("vol1", "bucket1", "a", dataSize: 9)
    #expect(try om.key("vol1", "bucket1", "a")?.dataSize == 9, "an overwrite needs no new slot")
    #expect(try #require(try om.bucket("vol1", "bucket1")).usedNamespace == 2)
  }

  @Test func bucketSpaceQuotaCountsReplicatedBytes() throws {
    let om = try OMHarness()
    try om.succeed(Requests.createVolume("vol1"))
    try om.succeed(Requests.createBucket("vol1", "bucket1", quotaInBytes: 3_000))
    try om.putKey("vol1", "bucket1", "big", dataSize: 1_000)
    #expect(try #require(try om.bucket("vol1", "bucket1")).usedBytes == 3_000, "exactly at the quota is allowed")
    let session = try om.succeed(Requests.createKey("vol1", "bucket1", "one", factor: 1)).createKeyResponse.clientID
    try expectRefusedUnchanged(
      om, Requests.commitKey("vol1", "bucket1", "one", session: session, dataSize: 1), .quotaExceeded)
    try om.putKey("vol1", "bucket1", "big", dataSize: 600)
    #expect(try #require(try om.bucket("vol1", "bucket1")).usedBytes == 1_800, "a shrinking overwrite releases bytes")
    let grow = try om.succeed(Requests.createKey("vol1", "bucket1", "big")).createKeyResponse.clientID
    try expectRefusedUnchanged(
      om, Requests.commitKey("vol1", "bucket1", "big", session: grow, dataSize: 1_001), .quotaExceeded)
    try om.succeed(Requests.commitKey("vol1", "bucket1", "one", session: session, dataSize: 1_200))
    #expect(try #require(try om.bucket("vol1", "bucket1")).usedBytes == 3_000)
    try om.succeed(Requests.deleteKey("vol1", "bucket1", "big"))
    #expect(try #require(try om.bucket("vol1", "bucket1")).usedBytes == 1_200, "a delete releases its bytes")
  }

  @Test func bucketQuotasCannotDropBelowUsage() throws {
    let om = try OMHarness()
    try om.makeBucket()
    try om.putKey("vol1", "bucket1", "a", dataSize: 100)
    try om.putKey("vol1", "bucket1", "b", dataSize: 100)
    var change = Requests.bucketProperties("vol1", "bucket1")
    change.quotaInBytes = 599
    try expectRefusedUnchanged(om, Requests.setBucketProperty(change), .quotaError)
    change = Requests.bucketProperties("vol1", "bucket1")
    change.quotaInNamespace = 1
    change.isVersionEnabled = true
    try expectRefusedUnchanged(om, Requests.setBucketProperty(change), .quotaError)
    change = Requests.bucketProperties("vol1", "bucket1")
    change.quotaInBytes = 600
    change.quotaInNamespace = 2
    try om.succeed(Requests.setBucketProperty(change))
    let bucket = try #require(try om.bucket("vol1", "bucket1"))
    #expect(bucket.quotaInBytes == 600 && bucket.quotaInNamespace == 2)
  }

  @Test(arguments: [Int64(-2), Int64.min])
  func aQuotaBelowMinusOneIsQuotaError(quota: Int64) throws {
    let om = try OMHarness()
    #expect(try om.submit(Requests.createVolume("vol1", quotaInBytes: quota)).status == .quotaError)
    #expect(try om.submit(Requests.createVolume("vol1", quotaInNamespace: quota)).status == .quotaError)
    try om.succeed(Requests.createVolume("vol1"))
    #expect(try om.submit(Requests.createBucket("vol1", "bucket1", quotaInBytes: quota)).status == .quotaError)
    #expect(try om.submit(Requests.createBucket("vol1", "bucket1", quotaInNamespace: quota)).status == .quotaError)
    #expect(om.lastIndex == 1, "refused before the log")
  }

  @Test func aZeroQuotaAtCreationMeansNone() throws {
    let om = try OMHarness()
    try om.succeed(Requests.createVolume("vol1", quotaInBytes: 0, quotaInNamespace: 0))
    try om.succeed(Requests.createBucket("vol1", "bucket1", quotaInBytes: 0, quotaInNamespace: 0))
    let volume = try #require(try om.volume("vol1"))
    let bucket = try #require(try om.bucket("vol1", "bucket1"))
    #expect(volume.quotaInBytes == -1 && volume.quotaInNamespace == -1)
    #expect(bucket.quotaInBytes == -1 && bucket.quotaInNamespace == -1)
  }
}
