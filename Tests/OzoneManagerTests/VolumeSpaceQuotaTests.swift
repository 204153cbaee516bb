import OMMetadata
import OMProto
import OzoneManager
import O3TestSupport
import Testing

/// A volume's space quota must bound the bytes of its keys. Ozone keeps it enforceable by
/// requiring a space quota on every bucket of a volume that has one (QUOTA_ERROR otherwise:
/// OMBucketCreateRequest.checkQuotaBytesValid, OMBucketSetPropertyRequest.checkQuotaBytesValid,
/// OMVolumeSetQuotaRequest.checkQuotaBytesValid) and by the sum-of-bucket-quotas rule.
@Suite(.watchdog, .ownThreads) struct VolumeSpaceQuotaTests {
  @Test func aBucketWithoutSpaceQuotaInAVolumeWithOneIsQuotaError() throws {
    let om = try OMHarness()
    try om.succeed(Requests.createVolume("vol1", quotaInBytes: 1_000))
    let response = try om.submit(Requests.createBucket("vol1", "bucket1"))
    #expect(response.status == .quotaError)
  }

  @Test func clearingABucketSpaceQuotaUnderAVolumeQuotaIsQuotaError() throws {
    let om = try OMHarness()
    try om.succeed(Requests.createVolume("vol1", quotaInBytes: 1_000))
    try om.succeed(Requests.createBucket("vol1", "bucket1", quotaInBytes: 500))
    var clear = Requests.bucketProperties("vol1", "bucket1")
    clear.quotaInBytes = -1
    let response = try om.submit(Requests.setBucketProperty(clear))
    #expect(response.status == .quotaError)
  }

  @Test func aVolumeSpaceQuotaOverABucketWithoutOneIsQuotaError() throws {
    let om = try OMHarness()
    try om.makeBucket()
    let response = try om.submit(Requests.setVolumeProperty("vol1", quotaInBytes: 1_000))
    #expect(response.status == .quotaError)
  }

  /// The consequence, whichever way the bucket got there: keys exceed the volume's quota.
  @Test func keysNeverExceedTheirVolumesSpaceQuota() throws {
    let om = try OMHarness()
    try om.succeed(Requests.createVolume("vol1", quotaInBytes: 1_000))
    let bucketCreated = try om.submit(Requests.createBucket("vol1", "bucket1")).status == .ok
    var committed = false
    if bucketCreated {
      let session = try om.succeed(Requests.createKey("vol1", "bucket1", "big")).createKeyResponse.clientID
      committed = try om.submit(Requests.commitKey("vol1", "bucket1", "big", session: session, dataSize: 10_000)).status == .ok
    }
    let usedBytes = try om.bucket("vol1", "bucket1")?.usedBytes ?? 0
    #expect(!committed)
    #expect(usedBytes <= 1_000)
  }
}
