import Foundation
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// A child process a test started and controls by its own pid: kill -9, SIGSTOP/SIGCONT,
/// SIGTERM, with standard output and error appended to a log file.
///
/// Never signals anything but its own child, and only while that child has not been reaped
/// (after `waitUntilExit` the pid may belong to someone else).
public final class ManagedProcess: @unchecked Sendable {
  // @unchecked: `process` is created in `init` and afterwards only read through its own
  // thread-safe accessors (`isRunning`, `processIdentifier`, `terminationStatus`) or waited
  // on; `paused` is an Atomic.
  private let process = Process()
  private let paused = Atomic<Bool>(false)
  public let logFile: String
  public let pid: Int32

  /// Starts `executable arguments…`; its output is appended to `logFile` after a line naming
  /// the start, so that one log can hold several lives of a restarted server.
  public init(executable: String, arguments: [String], logFile: String, environment: [String: String] = [:]) throws {
    self.logFile = logFile
    if !FileManager.default.fileExists(atPath: logFile) {
      _ = FileManager.default.createFile(atPath: logFile, contents: nil)
    }
    guard let log = FileHandle(forWritingAtPath: logFile) else {
      throw ManagedProcessError("cannot open \(logFile) for the output of \(executable)")
    }
    defer { try? log.close() }
    log.seekToEndOfFile()
    log.write(Data("=== start: \(executable) \(arguments.joined(separator: " "))\n".utf8))
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    process.standardInput = FileHandle.nullDevice
    process.standardOutput = log
    process.standardError = log
    try process.run()
    pid = process.processIdentifier
  }

  public var isRunning: Bool { process.isRunning }

  public var isPaused: Bool { paused.load(ordering: .relaxed) }

  /// SIGKILL, then waits for the exit: whatever the process had not written to disk is lost.
  public func kill() {
    guard process.isRunning else { return }
    _ = Glibc.kill(pid, SIGKILL)
    process.waitUntilExit()
    paused.store(false, ordering: .relaxed)
  }

  /// SIGSTOP: the process stops running but keeps its sockets and state.
  public func pause() {
    guard process.isRunning else { return }
    _ = Glibc.kill(pid, SIGSTOP)
    paused.store(true, ordering: .relaxed)
  }

  /// SIGCONT after `pause`.
  public func resume() {
    guard process.isRunning else { return }
    _ = Glibc.kill(pid, SIGCONT)
    paused.store(false, ordering: .relaxed)
  }

  /// SIGTERM (after SIGCONT if paused); waits up to `timeout` for the exit, then kill -9.
  /// Returns the exit status, or nil if it had to be killed.
  public func terminate(timeout: Duration = .seconds(60)) async -> Int32? {
    guard process.isRunning else { return exitStatus }
    if isPaused { resume() }
    _ = Glibc.kill(pid, SIGTERM)
    if let status = await waitForExit(timeout: timeout) { return status }
    kill()
    return nil
  }

  /// Waits up to `timeout` for the process to end by itself; its exit status, or nil if it
  /// is still running.
  public func waitForExit(timeout: Duration) async -> Int32? {
    let deadline = ContinuousClock.now + timeout
    while process.isRunning {
      guard ContinuousClock.now < deadline else { return nil }
      try? await Task.sleep(for: .milliseconds(20))
    }
    return exitStatus
  }

  /// The exit status once ended: the code of a normal exit, 128 + the signal of a killed one.
  public var exitStatus: Int32? {
    guard !process.isRunning else { return nil }
    return process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
  }

  deinit {
    kill()
  }
}

/// A process could not be started or controlled.
public struct ManagedProcessError: Error, CustomStringConvertible {
  public var description: String

  public init(_ description: String) {
    self.description = description
  }
}
