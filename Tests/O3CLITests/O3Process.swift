import Foundation
import O3TestSupport
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

  /// Runs `o3 arguments…` to completion; the wait suspends and holds no thread.
  static func run(_ arguments: [String]) async throws -> ProcessRun {
    try await ProcessRun.run(path, arguments)
  }
}

/// A long-running `o3 om` started by a test and stopped by its own pid.
final class OMProcess: Sendable {
  let process: ManagedProcess
  let metadataDirectory: String
  let port: Int

  /// Starts `o3 om` on 127.0.0.1 with a free port and waits until it says it is serving.
  static func start(metadataDirectory: String) async throws -> OMProcess {
    let process = try await ManagedProcess.start(
      executable: O3Binary.path,
      arguments: [
        "om", "--set", "ozone.metadata.dirs=\(metadataDirectory)", "--set", "ozone.om.address=127.0.0.1:0",
        "--set", "ozone.om.ratis.port=0",
      ],
      output: .collected)
    let deadline = ContinuousClock.now + .seconds(120)
    while true {
      if let match = process.standardError.firstMatch(of: /address=127\.0\.0\.1:(\d+)/) {
        return OMProcess(process: process, metadataDirectory: metadataDirectory, port: Int(match.1)!)
      }
      guard process.isRunning, ContinuousClock.now < deadline else {
        await process.kill()
        throw OMProcessError(message: "o3 om did not start; its log:\n\(process.standardError)")
      }
      try await Task.sleep(for: .milliseconds(10))
    }
  }

  private init(process: ManagedProcess, metadataDirectory: String, port: Int) {
    self.process = process
    self.metadataDirectory = metadataDirectory
    self.port = port
  }

  var address: String { "o3://127.0.0.1:\(port)" }
  var output: String { process.standardError }

  /// Sends SIGTERM and waits for the process to exit; returns its exit status (nil if it had to
  /// be killed).
  @discardableResult
  func stop() async -> Int32? {
    await process.terminate()
  }
}

struct OMProcessError: Error, CustomStringConvertible {
  var message: String
  var description: String { message }
}
