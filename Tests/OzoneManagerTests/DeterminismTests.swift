import Foundation
import OMDomain
import OMMetadata
import OMProto
import OzoneManager
import SwiftProtobuf
import O3TestSupport
import Testing

/// Apply must be a pure function of the log: two replicas fed the same log end with byte-identical
/// databases, however differently their flushes were timed.
@Suite(.watchdog) struct DeterminismTests {
  @Test(arguments: [11, 12, 13])
  func oneRandomLogGivesByteIdenticalReplicas(seed: UInt64) throws {
    let eager = try Replica(maxUnflushed: 10_000)
    let lagging = try Replica(maxUnflushed: 64)
    var generator = LogGenerator(seed: seed)
    var log: [[UInt8]] = []
    var eagerResponses: [OMResponse] = []
    // The log is written while the first replica applies it, so that later requests can use
    // what earlier ones returned (open-key sessions), as clients do.
    while log.count < 3_000 {
      guard let request = generator.nextRequest() else { continue }
      let bytes: [UInt8] = try request.serializedBytes()
      log.append(bytes)
      let response = try eager.stateMachine.apply(bytes, at: TermIndex(term: 1, index: UInt64(log.count)))
      generator.observe(response)
      eagerResponses.append(response)
    }
    var random = generator.random
    lagging.buffer.holdFlushes()
    for (position, bytes) in log.enumerated() {
      if position % 64 == 63 || random.next(below: 50) == 0 {
        lagging.buffer.releaseFlushes()
        lagging.buffer.awaitFlush()
        lagging.buffer.holdFlushes()
      }
      let response = try lagging.stateMachine.apply(bytes, at: TermIndex(term: 1, index: UInt64(position + 1)))
      #expect(response == eagerResponses[position], "response \(position + 1) differs")
    }
    lagging.buffer.releaseFlushes()
    let eagerRows = try eager.finish()
    let laggingRows = try lagging.finish()
    #expect(eagerRows.count == laggingRows.count)
    #expect(eagerRows.elementsEqual(laggingRows) { $0 == $1 }, "the two databases differ")
    let statuses = Set(eagerResponses.map(\.status))
    #expect(statuses.contains(.ok) && statuses.count >= 5, "the log exercised refusals too: \(statuses)")
    #expect(eagerRows.contains { $0.table == "deletedTable" }, "overwrites and deletes reached deletedTable")
  }
}

/// One replica: a fresh store, its double buffer and the state machine.
private struct Replica {
  let directory: String
  let store: OMMetadataStore
  let buffer: OMDoubleBuffer
  let stateMachine: OMStateMachine

  init(maxUnflushed: Int) throws {
    directory = FileManager.default.temporaryDirectory.appendingPathComponent("o3-determinism-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    try OMMetadataStore.initialize(path: directory + "/om.db")
    store = try OMMetadataStore.open(path: directory + "/om.db")
    buffer = OMDoubleBuffer(
      store: store, maxUnflushedTransactions: maxUnflushed, syncWrites: false, flushedUpTo: .zero,
      onFatalError: { error in Issue.record("fatal: \(error)") })
    buffer.start()
    stateMachine = OMStateMachine(store: store, doubleBuffer: buffer)
  }

  /// Flushes everything, returns every row, and removes the replica.
  func finish() throws -> [(table: String, key: [UInt8], value: [UInt8])] {
    buffer.stop()
    let rows = try store.dumpAllTables()
    store.close()
    try? FileManager.default.removeItem(atPath: directory)
    return rows
  }
}

/// Random but reproducible client traffic over a small namespace, prepared as the leader would.
private struct LogGenerator {
  var random: SeededRandom
  private var clock: UInt64 = 1_700_000_000_000
  private var openSessions: [(bucket: String, key: String, session: UInt64)] = []
  private var pendingCreate: (bucket: String, key: String)?
  private let volumes = ["vol-a", "vol-b"]
  private let buckets = ["bkt-1", "bkt-2", "bkt-3"]
  private let keys = (0..<25).map { "key\($0)" } + ["dir/a", "dir/b", "é", "e\u{301}"]

  init(seed: UInt64) {
    random = SeededRandom(seed: seed)
  }

  /// The next request, already through preExecute; nil when preExecute refused it (as a leader
  /// would, such a request never reaches the log).
  mutating func nextRequest() -> OMRequest? {
    clock += random.next(below: 5)
    var request = makeRequest()
    request.clientID = "client-\(random.next(below: 3))"
    request.userInfo.userName = ["alice", "bob"][Int(random.next(below: 2))]
    let sessionID = random.next()
    let context = PreExecuteContext(
      nowMilliseconds: clock, userName: request.userInfo.userName, randomID: { sessionID })
    return try? OMRequestRouter.preExecute(request, context: context, limits: OMRequestLimits())
  }

  /// Learns the session a CreateKey opened.
  mutating func observe(_ response: OMResponse) {
    if let (bucket, key) = pendingCreate, response.status == .ok, case .createKeyResponse(let created)? = response.body {
      openSessions.append((bucket, key, created.clientID))
    }
    pendingCreate = nil
  }

  private mutating func pick<T>(_ items: [T]) -> T { items[Int(random.next(below: UInt64(items.count)))] }

  private mutating func makeRequest() -> OMRequest {
    var request = OMRequest()
    let volume = pick(volumes)
    let bucket = pick(buckets)
    let key = pick(keys)
    switch random.next(below: 100) {
    case 0..<4:
      request.cmdType = .createVolume
      request.createVolumeRequest.volumeInfo.volume = volume
      request.createVolumeRequest.volumeInfo.quotaInNamespace = random.next(below: 2) == 0 ? -1 : 2
    case 4..<6:
      request.cmdType = .setVolumeProperty
      request.setVolumePropertyRequest.volumeName = volume
      request.setVolumePropertyRequest.quotaInBytes = random.next(below: 2) == 0 ? -1 : 1 << 40
    case 6..<8:
      request.cmdType = .deleteVolume
      request.deleteVolumeRequest.volumeName = volume
    case 8..<16:
      request.cmdType = .createBucket
      request.createBucketRequest.bucketInfo.volumeName = volume
      request.createBucketRequest.bucketInfo.bucketName = bucket
      request.createBucketRequest.bucketInfo.quotaInBytes = random.next(below: 3) == 0 ? 4_000 : -1
      request.createBucketRequest.bucketInfo.quotaInNamespace = random.next(below: 3) == 0 ? 5 : -1
    case 16..<18:
      request.cmdType = .setBucketProperty
      request.setBucketPropertyRequest.volumeName = volume
      request.setBucketPropertyRequest.bucketName = bucket
      request.setBucketPropertyRequest.isVersionEnabled = random.next(below: 2) == 0
      request.setBucketPropertyRequest.quotaInNamespace = random.next(below: 2) == 0 ? -1 : 8
    case 18..<21:
      request.cmdType = .deleteBucket
      request.deleteBucketRequest.volumeName = volume
      request.deleteBucketRequest.bucketName = bucket
    case 21..<50:
      request.cmdType = .createKey
      request.createKeyRequest.keyArgs = keyArgs(volume, bucket, key, size: random.next(below: 900))
      pendingCreate = ("\(volume)/\(bucket)", key)
    case 50..<75:
      request.cmdType = .commitKey
      if !openSessions.isEmpty {
        let session = openSessions.remove(at: Int(random.next(below: UInt64(openSessions.count))))
        let parts = session.bucket.split(separator: "/").map(String.init)
        request.commitKeyRequest.keyArgs = keyArgs(parts[0], parts[1], session.key, size: random.next(below: 900))
        request.commitKeyRequest.clientID = session.session
      } else {
        request.commitKeyRequest.keyArgs = keyArgs(volume, bucket, key, size: 1)
        request.commitKeyRequest.clientID = 42
      }
    case 75..<80:
      request.cmdType = .allocateBlock
      request.allocateBlockRequest.keyArgs = keyArgs(volume, bucket, key, size: 0)
    case 80..<86:
      request.cmdType = .renameKey
      request.renameKeyRequest.keyArgs = keyArgs(volume, bucket, key, size: 0)
      request.renameKeyRequest.toKeyName = pick(keys)
    case 86..<94:
      request.cmdType = .deleteKey
      request.deleteKeyRequest.keyArgs = keyArgs(volume, bucket, key, size: 0)
    default:
      request.cmdType = .deleteKeys
      request.deleteKeysRequest.volumeName = volume
      request.deleteKeysRequest.bucketName = bucket
      request.deleteKeysRequest.keys = (0..<3).map { _ in pick(keys) }
    }
    return request
  }

  private func keyArgs(_ volume: String, _ bucket: String, _ key: String, size: UInt64) -> KeyArgs {
    var arguments = KeyArgs()
    arguments.volumeName = volume
    arguments.bucketName = bucket
    arguments.keyName = key
    arguments.dataSize = size
    return arguments
  }
}

/// SplitMix64: reproducible randomness for generated workloads.
private struct SeededRandom {
  private var state: UInt64

  init(seed: UInt64) { state = seed }

  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var value = state
    value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
    value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
    return value ^ (value >> 31)
  }

  mutating func next(below bound: UInt64) -> UInt64 { next() % bound }
}
