import OMDomain
import OMMetadata
import OMProto
import OzoneManager
import O3TestSupport
import Testing

/// CreateBucket, InfoBucket, SetBucketProperty and DeleteBucket: every status each can answer,
/// the properties stored, and the volume's bucket count.
@Suite(.watchdog, .ownThreads) struct BucketRequestTests {
  @Test func createBucketStoresObjectStoreDefaultsAndCountsInItsVolume() throws {
    let om = try OMHarness()
    try om.succeed(Requests.createVolume("vol1"))
    om.userName = "bob"
    om.nowMilliseconds += 10
    let response = try om.submit(Requests.createBucket("vol1", "bucket1"))
    #expect(response.status == .ok)
    #expect(response.cmdType == .createBucket)
    let index = om.lastIndex
    let bucket = try #require(try om.bucket("vol1", "bucket1"))
    #expect(bucket.bucketLayout == .objectStore)
    #expect(bucket.storageType == .disk)
    #expect(bucket.isVersionEnabled == false)
    #expect(bucket.owner == "bob")
    #expect(bucket.creationTime == OMHarness.startMilliseconds + 10)
    #expect(bucket.modificationTime == bucket.creationTime)
    #expect(bucket.objectID == expectedObjectID(index: index))
    #expect(bucket.updateID == index)
    #expect(bucket.usedBytes == 0 && bucket.usedNamespace == 0)
    #expect(bucket.quotaInBytes == -1 && bucket.quotaInNamespace == -1)
    let volume = try #require(try om.volume("vol1"))
    #expect(volume.usedNamespace == 1)
    #expect(volume.updateID == index)
    #expect(try om.submit(Requests.infoBucket("vol1", "bucket1")).infoBucketResponse.bucketInfo == bucket)
  }

  @Test func createBucketStoresStorageTypeVersioningOwnerAndQuotas() throws {
    let om = try OMHarness()
    try om.succeed(Requests.createVolume("vol1"))
    var info = Requests.bucketInfo("vol1", "bucket1", quotaInBytes: 4096, quotaInNamespace: 3)
    info.storageType = .ssd
    info.isVersionEnabled = true
    info.owner = "frank"
    info.bucketLayout = .objectStore
    info.metadata = [KeyValue("tier", "hot")]
    try om.succeed(Requests.createBucket(info))
    let bucket = try #require(try om.bucket("vol1", "bucket1"))
    #expect(bucket.storageType == .ssd)
    #expect(bucket.isVersionEnabled)
    #expect(bucket.owner == "frank")
    #expect(bucket.quotaInBytes == 4096 && bucket.quotaInNamespace == 3)
    #expect(bucket.metadata == [KeyValue("tier", "hot")])
  }

  /// A client cannot forge usage, ids or times: preExecute and apply decide them.
  @Test func clientSuppliedUsageIdsAndTimesAreReplaced() throws {
    let om = try OMHarness()
    try om.succeed(Requests.createVolume("vol1"))
    var info = Requests.bucketInfo("vol1", "bucket1")
    info.usedBytes = 1 << 40
    info.usedNamespace = 12
    info.objectID = 5
    info.updateID = 6
    info.creationTime = 7
    info.modificationTime = 8
    try om.succeed(Requests.createBucket(info))
    let bucket = try #require(try om.bucket("vol1", "bucket1"))
    #expect(bucket.usedBytes == 0 && bucket.usedNamespace == 0)
    #expect(bucket.objectID == expectedObjectID(index: om.lastIndex) && bucket.updateID == om.lastIndex)
    #expect(bucket.creationTime == OMHarness.startMilliseconds && bucket.modificationTime == OMHarness.startMilliseconds)
  }

  @Test(arguments: [
    (BucketLayout.fileSystemOptimized, Status.notSupportedOperation),
    (BucketLayout.legacy, Status.notSupportedOperation),
    (BucketLayout.UNRECOGNIZED(17), Status.notSupportedOperation),
  ])
  func createBucketRefusesLayoutsOtherThanObjectStore(layout: BucketLayout, status: Status) throws {
    let om = try OMHarness()
    try om.succeed(Requests.createVolume("vol1"))
    var info = Requests.bucketInfo("vol1", "bucket1")
    info.bucketLayout = layout
    let before = try om.fingerprint()
    let response = try om.submit(Requests.createBucket(info))
    #expect(response.status == status)
    #expect(om.lastIndex == 1, "refused before the log")
    #expect(try om.fingerprint().rows == before.rows)
  }

  @Test func createBucketRefusesAnUnknownStorageType() throws {
    let om = try OMHarness()
    try om.succeed(Requests.createVolume("vol1"))
    var info = Requests.bucketInfo("vol1", "bucket1")
    info.storageType = .UNRECOGNIZED(9)
    #expect(try om.submit(Requests.createBucket(info)).status == .invalidRequest)
    #expect(try om.bucket("vol1", "bucket1") == nil)
  }

  @Test func createBucketStatusesChangeNothing() throws {
    let om = try OMHarness()
    try om.makeBucket("vol1", "bucket1")
    let before = try om.fingerprint()
    #expect(try om.submit(Requests.createBucket("nosuch", "bucket1")).status == .volumeNotFound)
    #expect(try om.submit(Requests.createBucket("vol1", "bucket1")).status == .bucketAlreadyExists)
    #expect(try om.submit(Requests.createBucket("vol1", "Bucket1")).status == .invalidBucketName)
    #expect(try om.submit(Requests.createBucket("-vol", "bucket1")).status == .invalidVolumeName)
    let after = try om.fingerprint()
    #expect(after.rows == before.rows)
    #expect(after.visible == before.visible)
    #expect(try #require(try om.volume("vol1")).usedNamespace == 1)
  }

  @Test func infoBucketStatuses() throws {
    let om = try OMHarness()
    try om.succeed(Requests.createVolume("vol1"))
    #expect(try om.submit(Requests.infoBucket("nosuch", "bucket1")).status == .volumeNotFound)
    #expect(try om.submit(Requests.infoBucket("vol1", "bucket1")).status == .bucketNotFound)
    #expect(try om.submit(Requests.infoBucket("vol1", "b")).status == .invalidBucketName)
    #expect(try om.submit(Requests.infoBucket("v", "bucket1")).status == .invalidVolumeName)
  }

  @Test func setBucketPropertyChangesOnlyWhatIsGiven() throws {
    let om = try OMHarness()
    try om.makeBucket("vol1", "bucket1")
    let created = try #require(try om.bucket("vol1", "bucket1"))
    om.nowMilliseconds += 77
    var change = Requests.bucketProperties("vol1", "bucket1")
    change.isVersionEnabled = true
    change.storageType = .archive
    try om.succeed(Requests.setBucketProperty(change))
    var changed = try #require(try om.bucket("vol1", "bucket1"))
    #expect(changed.isVersionEnabled)
    #expect(changed.storageType == .archive)
    #expect(changed.owner == created.owner)
    #expect(changed.quotaInBytes == -1)
    #expect(changed.modificationTime == OMHarness.startMilliseconds + 77)
    #expect(changed.creationTime == created.creationTime)
    #expect(changed.objectID == created.objectID)
    #expect(changed.updateID == om.lastIndex)

    change = Requests.bucketProperties("vol1", "bucket1")
    change.owner = "grace"
    change.quotaInBytes = 1 << 20
    change.quotaInNamespace = 100
    try om.succeed(Requests.setBucketProperty(change))
    changed = try #require(try om.bucket("vol1", "bucket1"))
    #expect(changed.owner == "grace")
    #expect(changed.quotaInBytes == 1 << 20 && changed.quotaInNamespace == 100)
    #expect(changed.isVersionEnabled, "versioning was not named, so it stays")
  }

  @Test(arguments: [
    ("nothing", Status.invalidRequest),
    ("emptyOwner", Status.invalidRequest),
    ("unspecifiedStorage", Status.invalidRequest),
    ("unknownStorage", Status.invalidRequest),
    ("zeroQuota", Status.quotaError),
    ("badBucketName", Status.invalidBucketName),
    ("missingVolume", Status.volumeNotFound),
    ("missingBucket", Status.bucketNotFound),
  ])
  func setBucketPropertyRefusalsChangeNothing(change: String, status: Status) throws {
    let om = try OMHarness()
    try om.makeBucket("vol1", "bucket1")
    var request = Requests.bucketProperties("vol1", "bucket1")
    switch change {
    case "nothing": break
    case "emptyOwner": request.owner = ""
    case "unspecifiedStorage": request.storageType = .unspecified
    case "unknownStorage": request.storageType = .UNRECOGNIZED(5)
    case "zeroQuota": request.quotaInBytes = 0
    case "badBucketName": request.bucketName = "bucket_1"; request.isVersionEnabled = true
    case "missingVolume": request.volumeName = "nosuch"; request.isVersionEnabled = true
    default: request.bucketName = "nosuch"; request.isVersionEnabled = true
    }
    let before = try om.fingerprint()
    let response = try om.submit(Requests.setBucketProperty(request))
    #expect(response.status == status, "\(response.message)")
    let after = try om.fingerprint()
    #expect(after.rows == before.rows)
    #expect(after.visible == before.visible)
  }

  /// SetBucketProperty.swift checks `storageType == .unspecified || rawValue > 4`, which lets a
  /// negative raw value (a valid int32 varint on the wire) through; CreateBucket refuses every
  /// `.UNRECOGNIZED` value.
  @Test func setBucketPropertyRefusesANegativeStorageType() throws {
    let om = try OMHarness()
    try om.makeBucket("vol1", "bucket1")
    var request = Requests.bucketProperties("vol1", "bucket1")
    request.storageType = .UNRECOGNIZED(-1)
    let response = try om.submit(Requests.setBucketProperty(request))
    let stored = try #require(try om.bucket("vol1", "bucket1"))
    #expect(response.status == .invalidRequest)
    #expect(stored.storageType == .disk)
  }

  @Test func deleteBucketRemovesAnEmptyBucketAndUncountsIt() throws {
    let om = try OMHarness()
    try om.makeBucket("vol1", "bucket1")
    try om.succeed(Requests.createBucket("vol1", "bucket2"))
    let response = try om.submit(Requests.deleteBucket("vol1", "bucket1"))
    #expect(response.status == .ok)
    #expect(response.cmdType == .deleteBucket)
    #expect(try om.bucket("vol1", "bucket1") == nil)
    let volume = try #require(try om.volume("vol1"))
    #expect(volume.usedNamespace == 1)
    #expect(volume.updateID == om.lastIndex)
    #expect(try om.submit(Requests.infoBucket("vol1", "bucket1")).status == .bucketNotFound)
  }

  @Test func deleteBucketWithACommittedKeyIsBucketNotEmpty() throws {
    let om = try OMHarness()
    try om.makeBucket("vol1", "bucket1")
    try om.putKey("vol1", "bucket1", "key1")
    let before = try om.fingerprint()
    #expect(try om.submit(Requests.deleteBucket("vol1", "bucket1")).status == .bucketNotEmpty)
    let after = try om.fingerprint()
    #expect(after.rows == before.rows)
    #expect(after.visible == before.visible)
    try om.succeed(Requests.deleteKey("vol1", "bucket1", "key1"))
    #expect(try om.submit(Requests.deleteBucket("vol1", "bucket1")).status == .ok)
  }

  /// As in Ozone, only committed keys make a bucket non-empty; open sessions do not.
  @Test func deleteBucketWithOnlyAnOpenKeySucceeds() throws {
    let om = try OMHarness()
    try om.makeBucket("vol1", "bucket1")
    try om.succeed(Requests.createKey("vol1", "bucket1", "key1"))
    #expect(try om.submit(Requests.deleteBucket("vol1", "bucket1")).status == .ok)
  }

  @Test func deleteBucketStatusesForMissingThings() throws {
    let om = try OMHarness()
    try om.succeed(Requests.createVolume("vol1"))
    #expect(try om.submit(Requests.deleteBucket("nosuch", "bucket1")).status == .volumeNotFound)
    #expect(try om.submit(Requests.deleteBucket("vol1", "bucket1")).status == .bucketNotFound)
    #expect(try om.submit(Requests.deleteBucket("vol1", "..")).status == .invalidBucketName)
    #expect(try #require(try om.volume("vol1")).usedNamespace == 0)
  }
}
