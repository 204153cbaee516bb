import OMDomain
import OMMetadata
import OMProto
import OzoneManager
import SwiftProtobuf
import O3TestSupport
import Testing

/// Bad input below the network: a malformed envelope, unknown fields, oversized metadata, empty
/// bodies and undecodable log entries each get a specific status and change nothing.
@Suite(.watchdog, .ownThreads) struct BadInputTests {
  /// Submits `request`, expects `status`, and checks it never reached the log nor changed a row.
  private func expectRefusedBeforeTheLog(
    _ om: OMHarness, _ request: OMRequest, _ status: Status, sourceLocation: SourceLocation = #_sourceLocation
  ) throws {
    let before = try om.fingerprint()
    let indexBefore = om.lastIndex
    let response = try om.submit(request)
    #expect(response.status == status, "\(response.message)", sourceLocation: sourceLocation)
    #expect(!response.message.isEmpty, sourceLocation: sourceLocation)
    #expect(om.lastIndex == indexBefore, "refused before the log", sourceLocation: sourceLocation)
    let after = try om.fingerprint()
    #expect(after.rows == before.rows, sourceLocation: sourceLocation)
    #expect(after.visible == before.visible, sourceLocation: sourceLocation)
  }

  /// `bytes` with one more field, numbered `fieldNumber`, that no O3 message defines.
  static func appendingUnknownField(to bytes: [UInt8], fieldNumber: UInt64 = 999) -> [UInt8] {
    var tag = fieldNumber << 3
    var encoded: [UInt8] = []
    while tag >= 0x80 {
      encoded.append(UInt8(tag & 0x7F) | 0x80)
      tag >>= 7
    }
    encoded.append(UInt8(tag))
    return bytes + encoded + [0x01]
  }

  @Test func envelopesThatAreNotARequestAreInvalidRequest() throws {
    let om = try OMHarness()
    try om.makeBucket()
    var noCommand = Requests.infoVolume("vol1")
    noCommand.cmdType = .unspecified
    var unknownCommand = Requests.infoVolume("vol1")
    unknownCommand.cmdType = .UNRECOGNIZED(999)
    var noBody = Requests.deleteVolume("vol1")
    noBody.body = nil
    var mismatched = Requests.deleteVolume("vol1")
    mismatched.body = .createVolumeRequest(CreateVolumeRequest())
    var readAsWrite = Requests.deleteBucket("vol1", "bucket1")
    readAsWrite.cmdType = .infoBucket
    for request in [noCommand, unknownCommand, noBody, mismatched, readAsWrite, OMRequest()] {
      try expectRefusedBeforeTheLog(om, request, .invalidRequest)
    }
  }

  /// The same requests without the unknown field are accepted, so the field alone is refused.
  @Test func unknownFieldsAnywhereInARequestAreInvalidRequest() throws {
    let om = try OMHarness()
    try om.makeBucket()
    let clean = [
      Requests.createVolume("vol2"), Requests.createVolume("vol3"),
      Requests.createVolume("vol4", metadata: [KeyValue("a", "b"), KeyValue("c", "d")]),
      Requests.listKeys("vol1", "bucket1"),
    ]
    let topLevel = try OMRequest(serializedBytes: Self.appendingUnknownField(to: try clean[0].serializedBytes()))
    var nestedInfo = clean[1]
    nestedInfo.createVolumeRequest.volumeInfo = try VolumeInfo(
      serializedBytes: Self.appendingUnknownField(to: try clean[1].createVolumeRequest.volumeInfo.serializedBytes()))
    var inMetadata = clean[2]
    inMetadata.createVolumeRequest.volumeInfo.metadata[1] = try KeyValue(
      serializedBytes: Self.appendingUnknownField(to: try KeyValue("c", "d").serializedBytes(), fieldNumber: 3))
    var inRead = clean[3]
    inRead.listKeysRequest = try ListKeysRequest(
      serializedBytes: Self.appendingUnknownField(to: try clean[3].listKeysRequest.serializedBytes(), fieldNumber: 6))
    for (request, original) in zip([topLevel, nestedInfo, inMetadata, inRead], clean) {
      let withField: [UInt8] = try request.serializedBytes()
      let without: [UInt8] = try original.serializedBytes()
      #expect(withField.count > without.count, "the unknown field survived decoding and is carried along")
      try expectRefusedBeforeTheLog(om, request, .invalidRequest)
    }
    for request in clean {
      #expect(try om.submit(request).status == .ok)
    }
  }

  @Test func oversizedMetadataIsInvalidRequest() throws {
    let om = try OMHarness()
    om.limits.metadataMaxCount = 2
    om.limits.metadataEntryMaxBytes = 8
    try om.makeBucket()
    let tooMany = [KeyValue("a", "1"), KeyValue("b", "2"), KeyValue("c", "3")]
    let tooLongValue = [KeyValue("a", "123456789")]
    let tooLongKey = [KeyValue("abcdefghi", "1")]
    for metadata in [tooMany, tooLongValue, tooLongKey] {
      try expectRefusedBeforeTheLog(om, Requests.createVolume("vol2", metadata: metadata), .invalidRequest)
      var bucket = Requests.bucketInfo("vol1", "bucket2")
      bucket.metadata = metadata
      try expectRefusedBeforeTheLog(om, Requests.createBucket(bucket), .invalidRequest)
      var key = Requests.keyArgs("vol1", "bucket1", "k")
      key.metadata = metadata
      try expectRefusedBeforeTheLog(om, Requests.createKey(key), .invalidRequest)
    }
    try om.succeed(Requests.createVolume("vol2", metadata: [KeyValue("a", "12345678"), KeyValue("abcdefgh", "")]))
  }

  /// Every command with an empty body of its own type: refused with a precise status, never
  /// applied (an empty name must not reach apply, where it would address "/").
  @Test(arguments: [
    (OMRequest.OneOf_Body.createVolumeRequest(.init()), CommandType.createVolume, Status.invalidVolumeName),
    (.setVolumePropertyRequest(.init()), .setVolumeProperty, .invalidVolumeName),
    (.infoVolumeRequest(.init()), .infoVolume, .invalidVolumeName),
    (.deleteVolumeRequest(.init()), .deleteVolume, .invalidVolumeName),
    (.listVolumeRequest(.init()), .listVolume, .invalidRequest),
    (.createBucketRequest(.init()), .createBucket, .invalidVolumeName),
    (.infoBucketRequest(.init()), .infoBucket, .invalidVolumeName),
    (.setBucketPropertyRequest(.init()), .setBucketProperty, .invalidVolumeName),
    (.deleteBucketRequest(.init()), .deleteBucket, .invalidVolumeName),
    (.listBucketsRequest(.init()), .listBuckets, .invalidVolumeName),
    (.createKeyRequest(.init()), .createKey, .invalidVolumeName),
    (.lookupKeyRequest(.init()), .lookupKey, .invalidVolumeName),
    (.renameKeyRequest(.init()), .renameKey, .invalidVolumeName),
    (.deleteKeyRequest(.init()), .deleteKey, .invalidVolumeName),
    (.listKeysRequest(.init()), .listKeys, .invalidVolumeName),
    (.commitKeyRequest(.init()), .commitKey, .invalidVolumeName),
    (.allocateBlockRequest(.init()), .allocateBlock, .invalidVolumeName),
    (.deleteKeysRequest(.init()), .deleteKeys, .invalidVolumeName),
  ])
  func anEmptyBodyIsRefusedBeforeTheLog(body: OMRequest.OneOf_Body, cmdType: CommandType, status: Status) throws {
    let om = try OMHarness()
    try om.makeBucket()
    try expectRefusedBeforeTheLog(om, Requests.envelope(cmdType, body), status)
  }

  /// A log entry that does not decode is refused the same way on every replica and still takes
  /// its index, so that replicas stay in step.
  @Test(arguments: [[UInt8]([0xFF, 0xFF, 0xFF, 0xFF]), [0x0A], [0x5A, 0x05, 0x0A], []])
  func anUndecodableLogEntryIsInvalidRequestAndTakesItsIndex(entry: [UInt8]) throws {
    let om = try OMHarness()
    try om.makeBucket()
    let before = try om.fingerprint()
    let response = try om.applyLoggedBytes(entry)
    #expect(response.status == .invalidRequest)
    #expect(response.cmdType == .unspecified)
    let after = try om.fingerprint()
    #expect(after.rows == before.rows)
    #expect(after.visible == before.visible)
    #expect(try om.store.transactionInfo() == TermIndex(term: OMHarness.term, index: 3))
    try om.succeed(Requests.createVolume("vol2"))
    #expect(try om.volume("vol2")?.objectID == expectedObjectID(index: 4), "the next entry applies normally")
  }

  @Test func theRouterKeepsReadsAndWritesApart() throws {
    let om = try OMHarness()
    try om.makeBucket()
    #expect(throws: OMException.self) {
      try OMRequestRouter.preExecute(Requests.infoVolume("vol1"), context: om.makeContext(), limits: om.limits)
    }
    #expect(throws: OMException.self) {
      try OMRequestRouter.read(Requests.deleteVolume("vol1"), store: om.store, limits: om.limits)
    }
    let transaction = OMTransaction(index: om.lastIndex + 1, term: OMHarness.term, store: om.store)
    let (response, part) = try OMRequestRouter.apply(Requests.infoVolume("vol1"), transaction: transaction)
    #expect(response.status == .invalidRequest)
    #expect(part.isEmpty)
    #expect(!OMRequestRouter.isWrite(.infoVolume) && OMRequestRouter.isWrite(.deleteKeys))
  }

  /// Apply reads and writes only through its transaction: its changes are a batch part that the
  /// state machine, not the handler, puts into the cache; a refusal yields an empty part.
  @Test func applyChangesOnlyItsBatchPart() throws {
    let om = try OMHarness()
    try om.succeed(Requests.createVolume("vol1"))
    let prepared = try OMRequestRouter.preExecute(
      Requests.createBucket("vol1", "bucket1"), context: om.makeContext(), limits: om.limits)
    let transaction = OMTransaction(index: 2, term: OMHarness.term, store: om.store)
    let (response, part) = try OMRequestRouter.apply(prepared, transaction: transaction)
    #expect(response.status == .ok)
    #expect(part.buckets.count == 1 && part.volumes.count == 1 && part.changeCount == 2)
    #expect(try om.bucket("vol1", "bucket1") == nil, "nothing reached the cache")
    #expect(try om.volume("vol1")?.usedNamespace == 0)
    let duplicate = try OMRequestRouter.preExecute(
      Requests.createVolume("vol1"), context: om.makeContext(), limits: om.limits)
    let (refusal, refusedPart) = try OMRequestRouter.apply(
      duplicate, transaction: OMTransaction(index: 2, term: OMHarness.term, store: om.store))
    #expect(refusal.status == .volumeAlreadyExists)
    #expect(refusedPart.isEmpty)
  }
}
