import Foundation
import Logging
import RaftCore
import Synchronization

@testable import Raft

/// A unique temporary directory for one test, removed when the body returns.
func withLogTestDirectory(_ body: (String) throws -> Void) throws {
  let path = FileManager.default.temporaryDirectory
    .appendingPathComponent("raftlog-test-\(UUID().uuidString)").path
  try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(atPath: path) }
  try body(path)
}

/// The messages a ``Logger`` produced, for tests that check what was reported.
final class LogTestMessages: Sendable {
  private let messages = Mutex<[(level: Logger.Level, text: String)]>([])

  var logger: Logger {
    Logger(label: "raftlog-test") { _ in LogTestHandler(sink: self) }
  }

  func record(_ level: Logger.Level, _ text: String) {
    messages.withLock { $0.append((level, text)) }
  }

  /// The warnings so far, each with its metadata rendered after the message.
  var warnings: [String] {
    messages.withLock { $0.filter { $0.level == .warning }.map(\.text) }
  }
}

struct LogTestHandler: LogHandler {
  let sink: LogTestMessages
  var metadata: Logger.Metadata = [:]
  var logLevel: Logger.Level = .trace

  subscript(metadataKey key: String) -> Logger.Metadata.Value? {
    get { metadata[key] }
    set { metadata[key] = newValue }
  }

  func log(event: LogEvent) {
    let rendered = (event.metadata ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
    sink.record(event.level, "\(event.message) \(rendered.joined(separator: " "))")
  }
}

/// A logger that drops everything, for tests that do not look at the output.
let silentLogTestLogger = Logger(label: "raftlog-test") { _ in SwiftLogNoOpLogHandler() }

/// `count` entries from `first` in `term`, each with distinct non-zero data of `dataBytes` bytes.
func logTestEntries(from first: UInt64, count: Int, term: UInt64 = 1, dataBytes: Int = 16) -> [LogEntry] {
  (0..<count).map { offset in
    let index = first + UInt64(offset)
    let data = (0..<dataBytes).map { UInt8(truncatingIfNeeded: Int(index) &* 31 &+ $0 &* 7) | 1 }
    return LogEntry(term: term, index: index, data: data)
  }
}

/// The names of the segment files in `directory`, sorted by first index.
func logTestSegmentNames(_ directory: String) throws -> [String] {
  try FileManager.default.contentsOfDirectory(atPath: directory)
    .compactMap { SegmentFileName(parsing: $0) }
    .sorted { $0.first < $1.first }
    .map(\.name)
}

/// A copy of `directory` (as a crash would leave it), in a new directory next to it.
func logTestCopy(_ directory: String, suffix: String) throws -> String {
  let copy = directory + "-" + suffix
  try? FileManager.default.removeItem(atPath: copy)
  try FileManager.default.copyItem(atPath: directory, toPath: copy)
  return copy
}

func logTestRead(_ path: String) throws -> [UInt8] {
  [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
}

func logTestWrite(_ bytes: [UInt8], to path: String) throws {
  try Data(bytes).write(to: URL(fileURLWithPath: path))
}

/// Opens `directory` and returns the error it refuses with, or nil when it opens.
func logTestOpenError(_ directory: String, segmentSizeBytes: Int = 1 << 20) -> RaftLogError? {
  do {
    _ = try DurableRaftLog.open(
      directory: directory, segmentSizeBytes: segmentSizeBytes, logger: silentLogTestLogger)
    return nil
  } catch {
    return error
  }
}

/// SplitMix64: a seeded generator so that a random test replays from its seed.
struct LogTestRandom: RandomNumberGenerator {
  private var state: UInt64

  init(seed: UInt64) { state = seed }

  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var mixed = state
    mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
    mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
    return mixed ^ (mixed >> 31)
  }
}
