import Foundation
import Testing

/// The `o3` binary built beside the tests, and helpers to run it as a user would.
enum O3Binary {
  static var path: String {
    let besideRunner = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("o3")
    if FileManager.default.isExecutableFile(atPath: besideRunner.path) { return besideRunner.path }
    // swift test may run the tests through a helper; fall back to the package's build folder.
    let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
    return packageRoot.appendingPathComponent(".build/debug/o3").path
  }

  /// The outcome of one finished `o3` run.
  struct Result {
    var exitCode: Int32
    var standardOutput: String
    var standardError: String

    var json: Any? { try? JSONSerialization.jsonObject(with: Data(standardOutput.utf8)) }
  }

  /// Runs `o3 arguments…` to completion.
  static func run(_ arguments: [String]) throws -> Result {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let output = Pipe()
    let error = Pipe()
    process.standardOutput = output
    process.standardError = error
    try process.run()
    // Read both pipes fully before waiting, so a chatty child never blocks on a full pipe.
    let errorReader = Thread.detachedRead(error)
    let outputData = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return Result(
      exitCode: process.terminationStatus, standardOutput: String(decoding: outputData, as: UTF8.self),
      standardError: String(decoding: errorReader.wait(), as: UTF8.self))
  }
}

/// A long-running `o3 om` started by a test and stopped by its own pid.
final class OMProcess {
  let process = Process()
  private let log = LockedText()
  let metadataDirectory: String
  private(set) var port = 0

  /// Starts `o3 om` on 127.0.0.1 with a free port and waits until it says it is serving. Sleeps
  /// between looks without holding a thread: the tests share Swift's cooperative pool (two
  /// threads on a two-core machine), and a blocked one stalls every other test.
  static func start(metadataDirectory: String) async throws -> OMProcess {
    let om = try OMProcess(metadataDirectory: metadataDirectory)
    let deadline = Date().addingTimeInterval(60)
    while om.port == 0 {
      if let match = om.log.text.firstMatch(of: /address=127\.0\.0\.1:(\d+)/) { om.port = Int(match.1)! }
      guard om.process.isRunning, Date() < deadline else {
        throw OMProcessError(message: "o3 om did not start; its log:\n\(om.log.text)")
      }
      try await Task.sleep(for: .milliseconds(10))
    }
    return om
  }

  private init(metadataDirectory: String) throws {
    self.metadataDirectory = metadataDirectory
    process.executableURL = URL(fileURLWithPath: O3Binary.path)
    process.arguments = [
      "om", "--set", "ozone.metadata.dirs=\(metadataDirectory)", "--set", "ozone.om.address=127.0.0.1:0",
      "--set", "ozone.om.ratis.port=0",
    ]
    let error = Pipe()
    process.standardError = error
    process.standardOutput = FileHandle.nullDevice
    let log = self.log
    error.fileHandleForReading.readabilityHandler = { handle in
      log.append(String(decoding: handle.availableData, as: UTF8.self))
    }
    try process.run()
  }

  var address: String { "o3://127.0.0.1:\(port)" }
  var output: String { log.text }

  /// Sends SIGTERM and waits for the process to exit; returns its exit status.
  @discardableResult
  func stop() -> Int32 {
    if process.isRunning {
      kill(process.processIdentifier, SIGTERM)
      process.waitUntilExit()
    }
    return process.terminationStatus
  }

  deinit {
    if process.isRunning {
      kill(process.processIdentifier, SIGKILL)
      process.waitUntilExit()
    }
  }
}

struct OMProcessError: Error, CustomStringConvertible {
  var message: String
  var description: String { message }
}

/// Text appended from one thread and read from another.
final class LockedText: @unchecked Sendable {
  // @unchecked: `buffer` is guarded by `lock`.
  private let lock = NSLock()
  private var buffer = ""

  func append(_ more: String) { lock.withLock { buffer += more } }
  var text: String { lock.withLock { buffer } }
}

extension Thread {
  /// Reads a pipe to its end on a new thread; `wait()` returns what was read.
  static func detachedRead(_ pipe: Pipe) -> PipeReader {
    let reader = PipeReader()
    Thread.detachNewThread { reader.finish(pipe.fileHandleForReading.readDataToEndOfFile()) }
    return reader
  }
}

/// The result of a background pipe read.
final class PipeReader: @unchecked Sendable {
  // @unchecked: `data` is guarded by `condition`.
  private let condition = NSCondition()
  private var data: Data?

  func finish(_ read: Data) {
    condition.withLock {
      data = read
      condition.broadcast()
    }
  }

  func wait() -> Data {
    condition.withLock {
      while data == nil { condition.wait() }
      return data!
    }
  }
}
