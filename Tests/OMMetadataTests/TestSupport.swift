import Foundation
import OMMetadata
import OMProto
import Testing

/// A fresh directory removed when the value is released.
final class TemporaryDirectory: Sendable {
  let path: String

  init(_ label: String = #function) {
    let name = label.filter { $0.isLetter || $0.isNumber }
    path = FileManager.default.temporaryDirectory.appendingPathComponent("o3-\(name)-\(UUID().uuidString)").path
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  }

  deinit {
    try? FileManager.default.removeItem(atPath: path)
  }
}

/// Records fatal errors instead of stopping the process.
final class FatalErrorRecorder: @unchecked Sendable {
  // @unchecked: `errors` is guarded by `lock`.
  private let lock = NSLock()
  private var errors: [Error] = []

  var handler: @Sendable (Error) -> Void { { [self] error in lock.withLock { errors.append(error) } } }
  var count: Int { lock.withLock { errors.count } }
}

/// A fresh, initialised store with a started double buffer.
struct StoreFixture: Sendable {
  let directory = TemporaryDirectory()
  let store: OMMetadataStore
  let buffer: OMDoubleBuffer
  let fatalErrors = FatalErrorRecorder()

  init(maxUnflushed: Int = 10_000) throws {
    let path = directory.path + "/om.db"
    try OMMetadataStore.initialize(path: path)
    store = try OMMetadataStore.open(path: path)
    buffer = OMDoubleBuffer(
      store: store, maxUnflushedTransactions: maxUnflushed, syncWrites: false, flushedUpTo: try store.transactionInfo(),
      onFatalError: fatalErrors.handler)
    buffer.start()
  }

  /// Applies one transaction the way the state machine does: cache first, then the buffer.
  func apply(_ part: OMBatchPart, index: UInt64, term: UInt64 = 1) {
    store.applyToCache(part, epoch: index)
    buffer.add(part, termIndex: TermIndex(term: term, index: index))
  }

  func close() {
    buffer.stop()
    store.close()
  }
}

func makeKey(_ volume: String, _ bucket: String, _ name: String, size: UInt64 = 0) -> KeyInfo {
  var info = KeyInfo()
  info.volumeName = volume
  info.bucketName = bucket
  info.keyName = name
  info.dataSize = size
  return info
}

/// Polls `condition` until it holds or a generous deadline passes (never used to assert timing).
/// Sleeps between looks without holding a thread of Swift's cooperative pool.
func eventually(_ what: String, timeoutSeconds: Double = 30, _ condition: () -> Bool) async -> Bool {
  let deadline = ContinuousClock.now + .seconds(timeoutSeconds)
  while !condition() {
    if ContinuousClock.now > deadline { return false }
    try? await Task.sleep(for: .milliseconds(1))
  }
  return true
}
