import OMDomain
import OMMetadata
import OMProto
import OzoneManager
import O3TestSupport
import Testing

/// CreateVolume, InfoVolume, SetVolumeProperty and DeleteVolume: every status each can answer,
/// what preExecute fills in, and what apply derives from the log index.
@Suite(.watchdog, .ownThreads) struct VolumeRequestTests {
  @Test func createVolumeStoresTheLeadersTimeUserAndIdsFromTheLogIndex() throws {
    let om = try OMHarness()
    om.userName = "carol"
    let response = try om.submit(Requests.createVolume("vol1"))
    #expect(response.status == .ok)
    #expect(response.cmdType == .createVolume)
    let index = om.lastIndex
    let stored = try #require(try om.volume("vol1"))
    #expect(stored.ownerName == "carol", "no owner named: the caller owns it")
    #expect(stored.adminName == "carol")
    #expect(stored.creationTime == OMHarness.startMilliseconds)
    #expect(stored.modificationTime == OMHarness.startMilliseconds)
    #expect(stored.objectID == expectedObjectID(index: index))
    #expect(stored.updateID == index)
    #expect(stored.usedNamespace == 0)
    #expect(stored.quotaInBytes == -1 && stored.quotaInNamespace == -1)
    let info = try om.submit(Requests.infoVolume("vol1"))
    #expect(info.status == .ok)
    #expect(info.infoVolumeResponse.volumeInfo == stored)
  }

  @Test func createVolumeKeepsANamedOwnerQuotasAndMetadata() throws {
    let om = try OMHarness()
    try om.succeed(
      Requests.createVolume(
        "vol1", owner: "dave", quotaInBytes: 1 << 30, quotaInNamespace: 10, metadata: [KeyValue("team", "storage")]))
    let stored = try #require(try om.volume("vol1"))
    #expect(stored.ownerName == "dave")
    #expect(stored.adminName == "alice", "the admin is the caller")
    #expect(stored.quotaInBytes == 1 << 30)
    #expect(stored.quotaInNamespace == 10)
    #expect(stored.metadata == [KeyValue("team", "storage")])
  }

  /// A client cannot forge what only the leader and the log decide.
  @Test func preExecuteOverwritesClientSuppliedTimesIdsAndUsage() throws {
    let om = try OMHarness()
    var request = Requests.createVolume("vol1")
    request.createVolumeRequest.volumeInfo.objectID = 99
    request.createVolumeRequest.volumeInfo.updateID = 98
    request.createVolumeRequest.volumeInfo.usedNamespace = 97
    request.createVolumeRequest.volumeInfo.creationTime = 1
    request.createVolumeRequest.volumeInfo.quotaInBytes = 0
    let prepared = try OMRequestRouter.preExecute(request, context: om.makeContext(), limits: om.limits)
    let info = prepared.createVolumeRequest.volumeInfo
    #expect(info.objectID == 0 && info.updateID == 0 && info.usedNamespace == 0)
    #expect(info.creationTime == OMHarness.startMilliseconds)
    #expect(info.quotaInBytes == -1, "0 means no quota, stored as Ozone's QUOTA_RESET")
    try om.applyLogged(prepared)
    let stored = try #require(try om.volume("vol1"))
    #expect(stored.objectID == expectedObjectID(index: om.lastIndex))
    #expect(stored.usedNamespace == 0)
  }

  @Test func createVolumeTwiceIsVolumeAlreadyExistsAndChangesNothing() throws {
    let om = try OMHarness()
    try om.succeed(Requests.createVolume("vol1", owner: "dave"))
    let before = try om.fingerprint()
    om.nowMilliseconds += 1_000
    let response = try om.submit(Requests.createVolume("vol1", owner: "erin"))
    #expect(response.status == .volumeAlreadyExists)
    #expect(response.message.contains("vol1"))
    let after = try om.fingerprint()
    #expect(after.rows == before.rows)
    #expect(after.visible == before.visible)
    #expect(try om.store.transactionInfo() == TermIndex(term: OMHarness.term, index: om.lastIndex),
      "a refused write still advances the applied index")
  }

  @Test func infoVolumeStatuses() throws {
    let om = try OMHarness()
    #expect(try om.submit(Requests.infoVolume("nosuch")).status == .volumeNotFound)
    #expect(try om.submit(Requests.infoVolume("BAD")).status == .invalidVolumeName,
      "a malformed name is refused as such, not looked up")
    #expect(try om.submit(Requests.infoVolume("")).status == .invalidVolumeName)
  }

  @Test func setVolumePropertyChangesOnlyWhatIsGiven() throws {
    let om = try OMHarness()
    try om.succeed(Requests.createVolume("vol1", owner: "dave", quotaInBytes: 1 << 20, quotaInNamespace: 5))
    let created = try #require(try om.volume("vol1"))
    om.nowMilliseconds += 500
    try om.succeed(Requests.setVolumeProperty("vol1", owner: "erin"))
    let renamed = try #require(try om.volume("vol1"))
    #expect(renamed.ownerName == "erin")
    #expect(renamed.quotaInBytes == 1 << 20 && renamed.quotaInNamespace == 5)
    #expect(renamed.modificationTime == OMHarness.startMilliseconds + 500)
    #expect(renamed.creationTime == created.creationTime)
    #expect(renamed.objectID == created.objectID)
    #expect(renamed.updateID == om.lastIndex)

    try om.succeed(Requests.setVolumeProperty("vol1", quotaInBytes: 1 << 30))
    try om.succeed(Requests.setVolumeProperty("vol1", quotaInNamespace: -1))
    let requoted = try #require(try om.volume("vol1"))
    #expect(requoted.quotaInBytes == 1 << 30)
    #expect(requoted.quotaInNamespace == -1, "-1 clears the quota")
    #expect(requoted.ownerName == "erin")
  }

  @Test(arguments: [
    (Requests.setVolumeProperty("vol1"), Status.invalidRequest),
    (Requests.setVolumeProperty("vol1", owner: ""), Status.invalidRequest),
    (Requests.setVolumeProperty("vol1", quotaInBytes: 0), Status.quotaError),
    (Requests.setVolumeProperty("vol1", quotaInBytes: -2), Status.quotaError),
    (Requests.setVolumeProperty("vol1", quotaInNamespace: 0), Status.quotaError),
    (Requests.setVolumeProperty("Vol1", owner: "erin"), Status.invalidVolumeName),
    (Requests.setVolumeProperty("nosuch", owner: "erin"), Status.volumeNotFound),
  ])
  func setVolumePropertyRefusalsChangeNothing(request: OMRequest, status: Status) throws {
    let om = try OMHarness()
    try om.succeed(Requests.createVolume("vol1", owner: "dave"))
    let before = try om.fingerprint()
    let response = try om.submit(request)
    #expect(response.status == status, "\(response.message)")
    #expect(!response.message.isEmpty)
    let after = try om.fingerprint()
    #expect(after.rows == before.rows)
    #expect(after.visible == before.visible)
  }

  @Test func deleteVolumeRemovesAnEmptyVolume() throws {
    let om = try OMHarness()
    try om.succeed(Requests.createVolume("vol1"))
    let response = try om.submit(Requests.deleteVolume("vol1"))
    #expect(response.status == .ok)
    #expect(response.cmdType == .deleteVolume)
    #expect(try om.volume("vol1") == nil)
    #expect(try om.submit(Requests.infoVolume("vol1")).status == .volumeNotFound)
    #expect(try om.databaseRows().allSatisfy { $0.table != OMTableName.volumeTable.rawValue },
      "the volume row is gone from RocksDB too")
  }

  @Test func deleteVolumeWithABucketIsVolumeNotEmptyUntilTheBucketGoes() throws {
    let om = try OMHarness()
    try om.makeBucket("vol1", "bucket1")
    let before = try om.fingerprint()
    let refused = try om.submit(Requests.deleteVolume("vol1"))
    #expect(refused.status == .volumeNotEmpty)
    let after = try om.fingerprint()
    #expect(after.rows == before.rows)
    #expect(after.visible == before.visible)
    try om.succeed(Requests.deleteBucket("vol1", "bucket1"))
    #expect(try om.submit(Requests.deleteVolume("vol1")).status == .ok)
  }

  @Test func deleteVolumeStatusesForMissingAndMalformedNames() throws {
    let om = try OMHarness()
    #expect(try om.submit(Requests.deleteVolume("nosuch")).status == .volumeNotFound)
    #expect(try om.submit(Requests.deleteVolume("a")).status == .invalidVolumeName)
    #expect(om.lastIndex == 1, "only the well-formed request reached the log")
  }

  @Test func aRecreatedVolumeGetsANewObjectID() throws {
    let om = try OMHarness()
    try om.succeed(Requests.createVolume("vol1"))
    let first = try #require(try om.volume("vol1")).objectID
    try om.succeed(Requests.deleteVolume("vol1"))
    try om.succeed(Requests.createVolume("vol1"))
    let second = try #require(try om.volume("vol1")).objectID
    #expect(second == expectedObjectID(index: 3))
    #expect(first != second)
  }
}
