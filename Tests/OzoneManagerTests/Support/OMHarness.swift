import Foundation
import OMDomain
import OMMetadata
import OMProto
import OzoneManager
import SwiftProtobuf
import Synchronization
import Testing

/// A fresh directory removed when the value is released.
final class TemporaryDirectory: Sendable {
  let path: String

  init(_ label: String) {
    let name = label.filter { $0.isLetter || $0.isNumber }.prefix(40)
    path = FileManager.default.temporaryDirectory.appendingPathComponent("o3-om-\(name)-\(UUID().uuidString)").path
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  }

  deinit {
    try? FileManager.default.removeItem(atPath: path)
  }
}

/// Keeps fatal errors instead of stopping the process, so a test can assert there were none.
final class FatalErrorRecorder: Sendable {
  private let errors = Mutex<[String]>([])

  var handler: @Sendable (Error) -> Void { { [self] error in errors.withLock { $0.append("\(error)") } } }
  var recorded: [String] { errors.withLock { $0 } }
}

/// One row of `OMMetadataStore.dumpAllTables`, comparable as a whole.
struct TableRow: Equatable, CustomStringConvertible {
  var table: String
  var key: [UInt8]
  var value: [UInt8]

  var description: String { "\(table) \(String(decoding: key, as: UTF8.self)) (\(value.count) bytes)" }
}

/// A harness set-up step failed (not what the test asserts).
struct HarnessError: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}

/// Runs requests the way the OM does, without the network: envelope check, preExecute with a
/// fixed clock, user and session id, then the state machine's apply at the next log index for a
/// write, or the read path for a read.
///
/// Every index handed out is applied in order, so `lastIndex` is the applied index.
final class OMHarness {
  static let term: UInt64 = 7
  static let startMilliseconds: UInt64 = 1_700_000_000_000

  let directory: TemporaryDirectory
  let store: OMMetadataStore
  let doubleBuffer: OMDoubleBuffer
  let stateMachine: OMStateMachine
  let fatalErrors = FatalErrorRecorder()
  var limits = OMRequestLimits()
  var userName = "alice"
  var nowMilliseconds = OMHarness.startMilliseconds
  /// The open-key session id the next preExecute hands out.
  var nextSessionID: UInt64 = 5_000
  private(set) var lastIndex: UInt64 = 0

  init(_ label: String = #function) throws {
    directory = TemporaryDirectory(label)
    let path = directory.path + "/om.db"
    try OMMetadataStore.initialize(path: path)
    store = try OMMetadataStore.open(path: path)
    doubleBuffer = OMDoubleBuffer(
      store: store, maxUnflushedTransactions: 10_000, syncWrites: false, flushedUpTo: try store.transactionInfo(),
      onFatalError: fatalErrors.handler)
    doubleBuffer.start()
    stateMachine = OMStateMachine(store: store, doubleBuffer: doubleBuffer)
  }

  /// A flush failure is fail-stop in the OM; here it fails the test that caused it.
  deinit {
    doubleBuffer.stop()
    store.close()
    for error in fatalErrors.recorded { Issue.record("the double buffer failed: \(error)") }
  }

  /// The context preExecute sees: the harness's clock and user, and the next session id.
  func makeContext() -> PreExecuteContext {
    let sessionID = nextSessionID
    nextSessionID += 1
    return PreExecuteContext(nowMilliseconds: nowMilliseconds, userName: userName, randomID: { sessionID })
  }

  /// Sends one request through the whole path and returns the OM's answer.
  @discardableResult
  func submit(_ request: OMRequest) throws -> OMResponse {
    do {
      try OMRequestRouter.checkEnvelope(request)
    } catch {
      return .failure(request.cmdType, error)
    }
    guard OMRequestRouter.isWrite(request.cmdType) else {
      return try OMRequestRouter.read(request, store: store, limits: limits)
    }
    let prepared: OMRequest
    do {
      prepared = try OMRequestRouter.preExecute(request, context: makeContext(), limits: limits)
    } catch {
      return .failure(request.cmdType, error)
    }
    return try applyLogged(prepared)
  }

  /// Submits a request that must succeed (a set-up step); returns its response.
  @discardableResult
  func succeed(_ request: OMRequest) throws -> OMResponse {
    let response = try submit(request)
    guard response.status == .ok else {
      throw HarnessError("\(request.cmdType) was refused: \(response.status.ozoneName) \(response.message)")
    }
    return response
  }

  /// Applies an already prepared (logged) request at the next index, as every replica would.
  @discardableResult
  func applyLogged(_ request: OMRequest) throws -> OMResponse {
    lastIndex += 1
    return try stateMachine.apply(request, at: TermIndex(term: Self.term, index: lastIndex))
  }

  /// Applies raw log-entry bytes at the next index.
  func applyLoggedBytes(_ bytes: [UInt8]) throws -> OMResponse {
    lastIndex += 1
    return try stateMachine.apply(bytes, at: TermIndex(term: Self.term, index: lastIndex))
  }

  /// Every database row once the flush has caught up. `transactionInfoTable` is left out unless
  /// asked for, because a write refused in apply still advances the applied index.
  func databaseRows(includingTransactionInfo: Bool = false) throws -> [TableRow] {
    doubleBuffer.awaitFlush()
    return try store.dumpAllTables()
      .filter { includingTransactionInfo || $0.table != OMTableName.transactionInfoTable.rawValue }
      .map { TableRow(table: $0.table, key: $0.key, value: $0.value) }
  }

  /// What clients see through the read path (cache first): every volume, every bucket of every
  /// volume, every key of every bucket, serialized so that two views compare exactly.
  func visibleNamespace() throws -> [[UInt8]] {
    var views: [[UInt8]] = []
    for volume in try submit(Requests.listVolumes()).listVolumeResponse.volumeInfo {
      views.append(try volume.serializedBytes())
      for bucket in try submit(Requests.listBuckets(volume.volume)).listBucketsResponse.bucketInfo {
        views.append(try bucket.serializedBytes())
        for key in try submit(Requests.listKeys(volume.volume, bucket.bucketName)).listKeysResponse.keyInfo {
          views.append(try key.serializedBytes())
        }
      }
    }
    return views
  }

  /// The database rows and the visible namespace together: what "changes nothing" compares.
  func fingerprint() throws -> (rows: [TableRow], visible: [[UInt8]]) {
    (try databaseRows(), try visibleNamespace())
  }

  func volume(_ name: String) throws -> VolumeInfo? {
    try store.volumeTable.get(OMKeys.volume(name))
  }

  func bucket(_ volume: String, _ bucket: String) throws -> BucketInfo? {
    try store.bucketTable.get(OMKeys.bucket(volume, bucket))
  }

  func key(_ volume: String, _ bucket: String, _ key: String) throws -> KeyInfo? {
    try store.keyTable.get(OMKeys.key(volume, bucket, key))
  }

  func openKey(_ volume: String, _ bucket: String, _ key: String, session: UInt64) throws -> KeyInfo? {
    try store.openKeyTable.get(OMKeys.openKey(volume, bucket, key, clientID: session))
  }

  func deletedKey(_ volume: String, _ bucket: String, _ key: String, objectID: UInt64) throws -> KeyInfo? {
    try store.deletedTable.get(OMKeys.deletedKey(volume, bucket, key, objectID: objectID))
  }

  /// Every deletedTable row, flushed.
  func deletedRows() throws -> [TableRow] {
    try databaseRows().filter { $0.table == OMTableName.deletedTable.rawValue }
  }

  /// Creates a volume and a bucket with default properties (two log entries).
  func makeBucket(_ volume: String = "vol1", _ bucket: String = "bucket1") throws {
    try succeed(Requests.createVolume(volume))
    try succeed(Requests.createBucket(volume, bucket))
  }

  /// Opens and commits a key (two log entries); returns the session id it used.
  @discardableResult
  func putKey(
    _ volume: String, _ bucket: String, _ key: String, dataSize: UInt64 = 0, factor: UInt32 = 0
  ) throws -> UInt64 {
    let session = try succeed(Requests.createKey(volume, bucket, key, dataSize: dataSize, factor: factor))
      .createKeyResponse.clientID
    try succeed(Requests.commitKey(volume, bucket, key, session: session, dataSize: dataSize))
    return session
  }
}

/// Ozone's object id for the first object a transaction creates (`OmUtils.getObjectIdFromTxId`).
func expectedObjectID(index: UInt64) -> UInt64 {
  (UInt64(2) << 62) | (index << 8)
}
