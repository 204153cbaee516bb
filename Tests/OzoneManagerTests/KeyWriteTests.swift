import OMDomain
import OMMetadata
import OMProto
import OzoneManager
import O3TestSupport
import Testing

/// CreateKey, AllocateBlock, CommitKey and LookupKey: the open-key session, the commit that
/// makes a key visible, overwrites going to deletedTable, and bucket usage.
@Suite(.watchdog, .ownThreads) struct KeyWriteTests {
  @Test func createKeyOpensASessionThatIsNotYetVisible() throws {
    let om = try OMHarness()
    try om.makeBucket()
    om.nextSessionID = 4242
    let response = try om.submit(Requests.createKey("vol1", "bucket1", "key1", dataSize: 100))
    #expect(response.status == .ok)
    #expect(response.cmdType == .createKey)
    let created = response.createKeyResponse
    #expect(created.clientID == 4242, "the session id comes from the leader's preExecute")
    #expect(created.keyInfo.clientID == 4242)
    #expect(created.keyInfo.objectID == expectedObjectID(index: om.lastIndex))
    #expect(created.keyInfo.updateID == om.lastIndex)
    #expect(created.keyInfo.replicationType == .ratis, "Ozone's default replication: RATIS/THREE")
    #expect(created.keyInfo.replicationFactor == 3)
    #expect(created.keyInfo.creationTime == OMHarness.startMilliseconds)
    #expect(try om.openKey("vol1", "bucket1", "key1", session: 4242) == created.keyInfo)
    #expect(try om.submit(Requests.lookupKey("vol1", "bucket1", "key1")).status == .keyNotFound)
    #expect(try om.submit(Requests.listKeys("vol1", "bucket1")).listKeysResponse.keyInfo.isEmpty)
    let bucket = try #require(try om.bucket("vol1", "bucket1"))
    #expect(bucket.usedNamespace == 0 && bucket.usedBytes == 0, "an open key uses nothing yet")
  }

  @Test(arguments: [
    (ReplicationType.ratis, UInt32(1), Status.ok),
    (ReplicationType.standAlone, UInt32(0), Status.ok),
    (ReplicationType.ratis, UInt32(2), Status.invalidRequest),
    (ReplicationType.ec, UInt32(0), Status.notSupportedOperation),
    (ReplicationType.UNRECOGNIZED(8), UInt32(3), Status.notSupportedOperation),
  ])
  func createKeyReplicationRules(type: ReplicationType, factor: UInt32, status: Status) throws {
    let om = try OMHarness()
    try om.makeBucket()
    let response = try om.submit(
      Requests.createKey(Requests.keyArgs("vol1", "bucket1", "key1", factor: factor, type: type)))
    #expect(response.status == status, "\(response.message)")
    if status == .ok {
      #expect(response.createKeyResponse.keyInfo.replicationType == type)
      #expect(response.createKeyResponse.keyInfo.replicationFactor == (factor == 0 ? 3 : factor))
    } else {
      #expect(om.lastIndex == 2, "refused in preExecute, before the log")
    }
  }

  @Test func keyRequestsNameTheMissingVolumeOrBucket() throws {
    let om = try OMHarness()
    try om.succeed(Requests.createVolume("vol1"))
    #expect(try om.submit(Requests.createKey("nosuch", "bucket1", "key1")).status == .volumeNotFound)
    #expect(try om.submit(Requests.createKey("vol1", "bucket1", "key1")).status == .bucketNotFound)
    #expect(try om.submit(Requests.lookupKey("nosuch", "bucket1", "key1")).status == .volumeNotFound)
    #expect(try om.submit(Requests.lookupKey("vol1", "bucket1", "key1")).status == .bucketNotFound)
    #expect(try om.submit(Requests.listKeys("vol1", "bucket1")).status == .bucketNotFound)
    #expect(try om.submit(Requests.allocateBlock("vol1", "bucket1", "key1", session: 1)).status == .bucketNotFound)
    #expect(
      try om.submit(Requests.commitKey("nosuch", "bucket1", "key1", session: 1, dataSize: 0)).status == .volumeNotFound)
    #expect(
      try om.submit(Requests.commitKey("vol1", "bucket1", "key1", session: 1, dataSize: 0)).status == .bucketNotFound)
  }

  /// There is no data plane: the OM says so instead of inventing a block.
  @Test func allocateBlockAnswersWithNoBlockAndTheReason() throws {
    let om = try OMHarness()
    try om.makeBucket()
    let session = try om.succeed(Requests.createKey("vol1", "bucket1", "key1")).createKeyResponse.clientID
    let before = try om.fingerprint()
    let response = try om.submit(Requests.allocateBlock("vol1", "bucket1", "key1", session: session))
    #expect(response.status == .ok)
    #expect(response.cmdType == .allocateBlock)
    #expect(response.allocateBlockResponse.keyLocation.isEmpty)
    #expect(!response.allocateBlockResponse.noBlockReason.isEmpty)
    let after = try om.fingerprint()
    #expect(after.rows == before.rows, "allocating no block writes nothing")
    #expect(after.visible == before.visible)
  }

  @Test func allocateBlockForAnUnknownSessionIsKeyNotFound() throws {
    let om = try OMHarness()
    try om.makeBucket()
    let session = try om.succeed(Requests.createKey("vol1", "bucket1", "key1")).createKeyResponse.clientID
    #expect(try om.submit(Requests.allocateBlock("vol1", "bucket1", "key1", session: session + 1)).status == .keyNotFound)
    #expect(try om.submit(Requests.allocateBlock("vol1", "bucket1", "key2", session: session)).status == .keyNotFound)
  }

  @Test func commitKeyMakesTheOpenKeyVisibleAndCountsReplicatedBytes() throws {
    let om = try OMHarness()
    try om.makeBucket()
    let created = try om.succeed(Requests.createKey("vol1", "bucket1", "key1", dataSize: 10))
    let session = created.createKeyResponse.clientID
    let createIndex = om.lastIndex
    om.nowMilliseconds += 250
    let response = try om.submit(Requests.commitKey("vol1", "bucket1", "key1", session: session, dataSize: 1_000))
    #expect(response.status == .ok)
    #expect(response.cmdType == .commitKey)
    let commitIndex = om.lastIndex
    #expect(try om.openKey("vol1", "bucket1", "key1", session: session) == nil, "the session is closed")
    let key = try #require(try om.key("vol1", "bucket1", "key1"))
    #expect(key.dataSize == 1_000, "the size is what the commit says was written")
    #expect(key.objectID == expectedObjectID(index: createIndex), "the object was created by CreateKey")
    #expect(key.updateID == commitIndex)
    #expect(key.creationTime == OMHarness.startMilliseconds)
    #expect(key.modificationTime == OMHarness.startMilliseconds + 250)
    #expect(key.clientID == 0)
    let bucket = try #require(try om.bucket("vol1", "bucket1"))
    #expect(bucket.usedBytes == 3_000, "usage counts replicas: dataSize × factor 3")
    #expect(bucket.usedNamespace == 1)
    #expect(bucket.updateID == commitIndex)
    let lookup = try om.submit(Requests.lookupKey("vol1", "bucket1", "key1"))
    #expect(lookup.status == .ok)
    #expect(lookup.lookupKeyResponse.keyInfo == key)
  }

  @Test func commitKeyWithAnUnknownSessionIsKeyNotFoundAndChangesNothing() throws {
    let om = try OMHarness()
    try om.makeBucket()
    let session = try om.succeed(Requests.createKey("vol1", "bucket1", "key1")).createKeyResponse.clientID
    let before = try om.fingerprint()
    let response = try om.submit(Requests.commitKey("vol1", "bucket1", "key1", session: session + 1, dataSize: 5))
    #expect(response.status == .keyNotFound)
    let after = try om.fingerprint()
    #expect(after.rows == before.rows)
    #expect(after.visible == before.visible)
    #expect(try om.openKey("vol1", "bucket1", "key1", session: session) != nil, "the real session is still open")
  }

  @Test func aSessionCommitsOnlyOnce() throws {
    let om = try OMHarness()
    try om.makeBucket()
    let session = try om.putKey("vol1", "bucket1", "key1", dataSize: 1)
    let before = try om.fingerprint()
    let again = try om.submit(Requests.commitKey("vol1", "bucket1", "key1", session: session, dataSize: 2))
    #expect(again.status == .keyNotFound)
    #expect(try om.fingerprint().rows == before.rows)
  }

  @Test func anOverwrittenVersionGoesToDeletedTableAndUsageIsReplaced() throws {
    let om = try OMHarness()
    try om.makeBucket()
    try om.putKey("vol1", "bucket1", "key1", dataSize: 100)
    let first = try #require(try om.key("vol1", "bucket1", "key1"))
    try om.putKey("vol1", "bucket1", "key1", dataSize: 40, factor: 1)
    let second = try #require(try om.key("vol1", "bucket1", "key1"))
    #expect(second.objectID != first.objectID)
    #expect(second.dataSize == 40)
    #expect(try om.deletedKey("vol1", "bucket1", "key1", objectID: first.objectID) == first)
    let bucket = try #require(try om.bucket("vol1", "bucket1"))
    #expect(bucket.usedBytes == 40, "300 replicated bytes replaced by 40 × 1")
    #expect(bucket.usedNamespace == 1, "an overwrite is still one key")
    let deletedRows = try om.databaseRows().filter { $0.table == OMTableName.deletedTable.rawValue }
    #expect(deletedRows.map { String(decoding: $0.key, as: UTF8.self) } == ["/vol1/bucket1/key1/\(first.objectID)"])
  }

  /// Two writers of one key: each has its own session; the later commit wins and the earlier
  /// committed version is queued for deletion.
  @Test func twoSessionsOnOneKeyCommitInTurn() throws {
    let om = try OMHarness()
    try om.makeBucket()
    let sessionA = try om.succeed(Requests.createKey("vol1", "bucket1", "key1")).createKeyResponse.clientID
    let sessionB = try om.succeed(Requests.createKey("vol1", "bucket1", "key1")).createKeyResponse.clientID
    #expect(sessionA != sessionB)
    try om.succeed(Requests.commitKey("vol1", "bucket1", "key1", session: sessionA, dataSize: 1))
    let versionA = try #require(try om.key("vol1", "bucket1", "key1"))
    try om.succeed(Requests.commitKey("vol1", "bucket1", "key1", session: sessionB, dataSize: 2))
    let versionB = try #require(try om.key("vol1", "bucket1", "key1"))
    #expect(versionB.dataSize == 2)
    #expect(try om.deletedKey("vol1", "bucket1", "key1", objectID: versionA.objectID) == versionA)
    let bucket = try #require(try om.bucket("vol1", "bucket1"))
    #expect(bucket.usedBytes == 6 && bucket.usedNamespace == 1)
  }

  @Test func keyNamesMayContainSlashesAndUnicode() throws {
    let om = try OMHarness()
    try om.makeBucket()
    for name in ["dir/sub/file.txt", "é", "e\u{301}", "with space"] {
      try om.putKey("vol1", "bucket1", name, dataSize: 1)
    }
    let listed = try om.submit(Requests.listKeys("vol1", "bucket1")).listKeysResponse.keyInfo.map(\.keyName)
    #expect(listed.count == 4, "é and e+combining accent are different keys: names compare as bytes")
    #expect(try om.submit(Requests.lookupKey("vol1", "bucket1", "e\u{301}")).lookupKeyResponse.keyInfo.keyName == "e\u{301}")
  }
}
