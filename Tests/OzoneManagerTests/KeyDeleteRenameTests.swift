import OMDomain
import OMMetadata
import OMProto
import OzoneManager
import O3TestSupport
import Testing

/// RenameKey, DeleteKey and DeleteKeys: what moves where, what goes to deletedTable, the
/// bucket's usage, and DeleteKeys' partial answers.
@Suite(.watchdog, .ownThreads) struct KeyDeleteRenameTests {
  @Test func renameMovesTheKeyAndKeepsItsObject() throws {
    let om = try OMHarness()
    try om.makeBucket()
    try om.putKey("vol1", "bucket1", "old", dataSize: 7)
    let original = try #require(try om.key("vol1", "bucket1", "old"))
    let usage = try #require(try om.bucket("vol1", "bucket1"))
    om.nowMilliseconds += 3
    let response = try om.submit(Requests.renameKey("vol1", "bucket1", from: "old", to: "new"))
    #expect(response.status == .ok)
    #expect(response.cmdType == .renameKey)
    #expect(try om.key("vol1", "bucket1", "old") == nil)
    let renamed = try #require(try om.key("vol1", "bucket1", "new"))
    #expect(renamed.keyName == "new")
    #expect(renamed.objectID == original.objectID)
    #expect(renamed.dataSize == 7)
    #expect(renamed.updateID == om.lastIndex)
    #expect(renamed.modificationTime == OMHarness.startMilliseconds + 3)
    #expect(try om.submit(Requests.lookupKey("vol1", "bucket1", "old")).status == .keyNotFound)
    let bucket = try #require(try om.bucket("vol1", "bucket1"))
    #expect(bucket.usedBytes == usage.usedBytes && bucket.usedNamespace == usage.usedNamespace)
    #expect(try om.databaseRows().allSatisfy { $0.table != OMTableName.deletedTable.rawValue },
      "a rename deletes no version")
  }

  @Test func renameRefusalsChangeNothing() throws {
    let om = try OMHarness()
    try om.makeBucket()
    try om.putKey("vol1", "bucket1", "a")
    try om.putKey("vol1", "bucket1", "b")
    let before = try om.fingerprint()
    let cases: [(OMRequest, Status)] = [
      (Requests.renameKey("vol1", "bucket1", from: "a", to: "b"), .keyAlreadyExists),
      (Requests.renameKey("vol1", "bucket1", from: "a", to: "a"), .keyAlreadyExists),
      (Requests.renameKey("vol1", "bucket1", from: "missing", to: "c"), .keyNotFound),
      (Requests.renameKey("vol1", "bucket1", from: "a", to: ""), .invalidKeyName),
      (Requests.renameKey("vol1", "nosuch", from: "a", to: "c"), .bucketNotFound),
      (Requests.renameKey("nosuch", "bucket1", from: "a", to: "c"), .volumeNotFound),
    ]
    for (request, status) in cases {
      let response = try om.submit(request)
      #expect(response.status == status, "\(request.renameKeyRequest): \(response.message)")
    }
    let after = try om.fingerprint()
    #expect(after.rows == before.rows)
    #expect(after.visible == before.visible)
  }

  @Test func deleteKeyQueuesTheVersionAndReleasesItsUsage() throws {
    let om = try OMHarness()
    try om.makeBucket()
    try om.putKey("vol1", "bucket1", "keep", dataSize: 5)
    try om.putKey("vol1", "bucket1", "gone", dataSize: 20)
    let doomed = try #require(try om.key("vol1", "bucket1", "gone"))
    let response = try om.submit(Requests.deleteKey("vol1", "bucket1", "gone"))
    #expect(response.status == .ok)
    #expect(response.cmdType == .deleteKey)
    #expect(try om.key("vol1", "bucket1", "gone") == nil)
    #expect(try om.deletedKey("vol1", "bucket1", "gone", objectID: doomed.objectID) == doomed)
    let bucket = try #require(try om.bucket("vol1", "bucket1"))
    #expect(bucket.usedBytes == 15, "60 replicated bytes released, 15 remain")
    #expect(bucket.usedNamespace == 1)
    #expect(bucket.updateID == om.lastIndex)
    let deleted = try om.databaseRows().filter { $0.table == OMTableName.deletedTable.rawValue }
    #expect(deleted.map { String(decoding: $0.key, as: UTF8.self) } == ["/vol1/bucket1/gone/\(doomed.objectID)"])
  }

  @Test func deleteKeyStatusesChangeNothing() throws {
    let om = try OMHarness()
    try om.makeBucket()
    try om.putKey("vol1", "bucket1", "key1")
    let before = try om.fingerprint()
    #expect(try om.submit(Requests.deleteKey("vol1", "bucket1", "missing")).status == .keyNotFound)
    #expect(try om.submit(Requests.deleteKey("vol1", "nosuch", "key1")).status == .bucketNotFound)
    #expect(try om.submit(Requests.deleteKey("nosuch", "bucket1", "key1")).status == .volumeNotFound)
    #expect(try om.submit(Requests.deleteKey("vol1", "bucket1", "")).status == .invalidKeyName)
    let after = try om.fingerprint()
    #expect(after.rows == before.rows)
    #expect(after.visible == before.visible)
  }

  @Test func deleteKeysDeletesEveryNamedKey() throws {
    let om = try OMHarness()
    try om.makeBucket()
    for name in ["a", "b", "c"] { try om.putKey("vol1", "bucket1", name, dataSize: 1) }
    let response = try om.submit(Requests.deleteKeys("vol1", "bucket1", ["a", "c"]))
    #expect(response.status == .ok)
    #expect(response.cmdType == .deleteKeys)
    #expect(response.deleteKeysResponse.deletedKeys == ["a", "c"])
    #expect(response.deleteKeysResponse.unDeletedKeys.isEmpty)
    let remaining = try om.submit(Requests.listKeys("vol1", "bucket1")).listKeysResponse.keyInfo.map(\.keyName)
    #expect(remaining == ["b"])
    let bucket = try #require(try om.bucket("vol1", "bucket1"))
    #expect(bucket.usedNamespace == 1 && bucket.usedBytes == 3)
    #expect(try om.deletedRows().count == 2)
  }

  /// Ozone's answer when some keys cannot be deleted: PARTIAL_DELETE, the others still deleted,
  /// each failure named with its reason.
  @Test func deleteKeysWithMissingKeysIsPartialDelete() throws {
    let om = try OMHarness()
    try om.makeBucket()
    try om.putKey("vol1", "bucket1", "a", dataSize: 2)
    try om.putKey("vol1", "bucket1", "b", dataSize: 2)
    let response = try om.submit(Requests.deleteKeys("vol1", "bucket1", ["a", "missing", "a", "b"]))
    #expect(response.status == .partialDelete)
    #expect(!response.message.isEmpty)
    #expect(response.deleteKeysResponse.deletedKeys == ["a", "b"])
    let refused = response.deleteKeysResponse.unDeletedKeys
    #expect(refused.map(\.key) == ["missing", "a"], "a name given twice is deleted once")
    #expect(refused.allSatisfy { $0.value.contains("KEY_NOT_FOUND") })
    let bucket = try #require(try om.bucket("vol1", "bucket1"))
    #expect(bucket.usedNamespace == 0 && bucket.usedBytes == 0)
    #expect(bucket.updateID == om.lastIndex)
  }

  @Test func deleteKeysWhereNothingExistsIsPartialDeleteAndChangesNothing() throws {
    let om = try OMHarness()
    try om.makeBucket()
    try om.putKey("vol1", "bucket1", "a")
    let before = try om.fingerprint()
    let response = try om.submit(Requests.deleteKeys("vol1", "bucket1", ["x", "y"]))
    #expect(response.status == .partialDelete)
    #expect(response.deleteKeysResponse.deletedKeys.isEmpty)
    #expect(response.deleteKeysResponse.unDeletedKeys.count == 2)
    let after = try om.fingerprint()
    #expect(after.rows == before.rows, "not even the bucket's updateID moves")
    #expect(after.visible == before.visible)
  }

  @Test func deleteKeysRefusalsBeforeTheLog() throws {
    var om = try OMHarness()
    try om.makeBucket()
    try om.putKey("vol1", "bucket1", "a")
    let indexBefore = om.lastIndex
    #expect(try om.submit(Requests.deleteKeys("vol1", "bucket1", [])).status == .invalidRequest)
    #expect(try om.submit(Requests.deleteKeys("vol1", "bucket1", ["a", ""])).status == .invalidKeyName)
    #expect(try om.submit(Requests.deleteKeys("vol1", "BUCKET", ["a"])).status == .invalidBucketName)
    om.limits.deleteKeysMaxCount = 2
    #expect(try om.submit(Requests.deleteKeys("vol1", "bucket1", ["a", "b", "c"])).status == .invalidRequest)
    #expect(om.lastIndex == indexBefore, "none of these reached the log")
    #expect(try om.key("vol1", "bucket1", "a") != nil)
    om = try OMHarness()
    try om.succeed(Requests.createVolume("vol1"))
    #expect(try om.submit(Requests.deleteKeys("vol1", "bucket1", ["a"])).status == .bucketNotFound)
    #expect(try om.submit(Requests.deleteKeys("vol2", "bucket1", ["a"])).status == .volumeNotFound)
  }

  @Test func aDeletedKeyCanBeWrittenAgainAsANewObject() throws {
    let om = try OMHarness()
    try om.makeBucket()
    try om.putKey("vol1", "bucket1", "k", dataSize: 1)
    let first = try #require(try om.key("vol1", "bucket1", "k"))
    try om.succeed(Requests.deleteKey("vol1", "bucket1", "k"))
    try om.putKey("vol1", "bucket1", "k", dataSize: 2)
    let second = try #require(try om.key("vol1", "bucket1", "k"))
    #expect(second.objectID != first.objectID)
    #expect(try om.deletedKey("vol1", "bucket1", "k", objectID: first.objectID) == first)
    #expect(try om.deletedKey("vol1", "bucket1", "k", objectID: second.objectID) == nil)
    #expect(try #require(try om.bucket("vol1", "bucket1")).usedNamespace == 1)
  }
}
