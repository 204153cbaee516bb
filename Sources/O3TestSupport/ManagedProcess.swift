import Foundation
import Subprocess
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif
#if canImport(System)
  import System
#else
  import SystemPackage
#endif

/// A child process a test started and controls by its own pid: kill -9, SIGSTOP/SIGCONT,
/// SIGTERM; its output appended to a log file or collected in memory.
///
/// Nothing here holds a thread while the child runs: swift-subprocess watches the child's pidfd
/// from a thread of its own and a detached task records the exit, so waits are polls that
/// suspend (Swift's cooperative pool has two threads on a two-core machine; one blocked thread
/// stalls every other test).
///
/// Never signals anything but its own child, and only while its exit has not been recorded.
/// (The child is reaped just before the exit is recorded; a pid reused inside that window
/// would need the kernel to cycle through every pid in between.)
public final class ManagedProcess: Sendable {
  /// Where the child's standard output and error go.
  public enum Output: Sendable {
    /// Appended to this file, after a line naming the start: one log can hold several lives of
    /// a restarted server. The child writes the file itself.
    case logFile(String)
    /// Kept in memory (`standardOutput`, `standardError`), read as it arrives.
    case collected
  }

  private struct State {
    var exitStatus: Int32?
    var paused = false
  }

  /// The state shared with the task that watches the child.
  private final class SharedState: Sendable {
    let mutex = Mutex(State())
    func withLock<Result>(_ body: (inout State) -> Result) -> Result { mutex.withLock { body(&$0) } }
  }

  public let pid: Int32
  public let logFile: String?
  private let state: SharedState
  private let collectedOutput: LockedText
  private let collectedErrors: LockedText

  /// Starts `executable arguments…` with `environment` added to this process's and standard
  /// input empty; returns once the child runs.
  public static func start(
    executable: String, arguments: [String], output: Output, environment: [String: String] = [:]
  ) async throws -> ManagedProcess {
    let collectedOutput = LockedText()
    let collectedErrors = LockedText()
    let state = SharedState()
    let launched = AsyncThrowingStream<Int32, any Error>.makeStream()
    let configuration = Configuration(
      executable: .path(FilePath(executable)), arguments: Arguments(arguments),
      environment: ChildEnvironment.inheriting(environment))
    let logFile: String?
    switch output {
    case .logFile(let path):
      logFile = path
      let (standardOutput, standardError) = try openLog(path, naming: executable, arguments)
      Task.detached {
        let status = await exitCode {
          try await Subprocess.run(
            configuration, input: .none,
            output: .fileDescriptor(standardOutput, closeAfterSpawningProcess: true),
            error: .fileDescriptor(standardError, closeAfterSpawningProcess: true)
          ) { execution in
            launched.continuation.yield(execution.processIdentifier.value)
          }.terminationStatus
        }
        state.withLock { $0.exitStatus = status }
        launched.continuation.finish(throwing: ManagedProcessError("\(executable) could not be started"))
      }
    case .collected:
      logFile = nil
      Task.detached {
        let status = await exitCode {
          try await Subprocess.run(configuration, input: .none, output: .sequence, error: .sequence) { execution in
            launched.continuation.yield(execution.processIdentifier.value)
            async let errors: Void = append(execution.standardError, to: collectedErrors)
            await append(execution.standardOutput, to: collectedOutput)
            await errors
          }.terminationStatus
        }
        state.withLock { $0.exitStatus = status }
        launched.continuation.finish(throwing: ManagedProcessError("\(executable) could not be started"))
      }
    }
    var events = launched.stream.makeAsyncIterator()
    guard let pid = try await events.next() else {
      throw ManagedProcessError("\(executable) could not be started")
    }
    return ManagedProcess(
      pid: pid, logFile: logFile, state: state, collectedOutput: collectedOutput, collectedErrors: collectedErrors)
  }

  private init(pid: Int32, logFile: String?, state: SharedState, collectedOutput: LockedText, collectedErrors: LockedText) {
    self.pid = pid
    self.logFile = logFile
    self.state = state
    self.collectedOutput = collectedOutput
    self.collectedErrors = collectedErrors
  }

  /// The exit code once ended (128 + the signal of a killed child); nil while it runs.
  public var exitStatus: Int32? { state.withLock { $0.exitStatus } }

  public var isRunning: Bool { exitStatus == nil }

  public var isPaused: Bool { state.withLock { $0.paused } }

  /// What the child wrote to standard output so far (`.collected` only).
  public var standardOutput: String { collectedOutput.text }

  /// What the child wrote to standard error so far (`.collected` only).
  public var standardError: String { collectedErrors.text }

  /// SIGKILL, then waits for the exit: whatever the process had not written to disk is lost.
  public func kill() async {
    guard signal(SIGKILL) else { return }
    _ = await waitForExit(timeout: .seconds(3600))
    state.withLock { $0.paused = false }
  }

  /// SIGKILL without waiting for the exit (for `defer` and `deinit`): the task watching the child
  /// reaps it.
  public func sendKill() {
    _ = signal(SIGKILL)
  }

  /// SIGSTOP: the process stops running but keeps its sockets and state.
  public func pause() {
    if signal(SIGSTOP) { state.withLock { $0.paused = true } }
  }

  /// SIGCONT after `pause`.
  public func resume() {
    if signal(SIGCONT) { state.withLock { $0.paused = false } }
  }

  /// SIGTERM (after SIGCONT if paused); waits up to `timeout` for the exit, then kill -9.
  /// Returns the exit status, or nil if it had to be killed.
  @discardableResult
  public func terminate(timeout: Duration = .seconds(60)) async -> Int32? {
    guard isRunning else { return exitStatus }
    if isPaused { resume() }
    _ = signal(SIGTERM)
    if let status = await waitForExit(timeout: timeout) { return status }
    await kill()
    return nil
  }

  /// Waits up to `timeout` for the process to end by itself; its exit status, or nil if it is
  /// still running.
  public func waitForExit(timeout: Duration) async -> Int32? {
    let deadline = ContinuousClock.now + timeout
    while true {
      if let status = exitStatus { return status }
      guard ContinuousClock.now < deadline else { return nil }
      try? await Task.sleep(for: .milliseconds(20))
    }
  }

  /// Waits until the collected standard output (or error) contains `text`: true, or false once
  /// the process ended or the generous deadline passed without it. Never an assertion on time.
  public func waitForOutput(
    containing text: String, inStandardError: Bool = false, timeout: Duration = .seconds(180)
  ) async -> Bool {
    let source = inStandardError ? collectedErrors : collectedOutput
    let deadline = ContinuousClock.now + timeout
    while !source.text.contains(text) {
      guard isRunning, ContinuousClock.now < deadline else { return source.text.contains(text) }
      try? await Task.sleep(for: .milliseconds(20))
    }
    return true
  }

  /// Sends `number` to the child while it runs; whether it was sent.
  private func signal(_ number: Int32) -> Bool {
    state.withLock { state in
      guard state.exitStatus == nil else { return false }
      return Glibc.kill(pid, number) == 0
    }
  }

  deinit {
    sendKill()
  }
}

extension ManagedProcess {
  /// Opens `path` for appending twice (standard output and error), after a line naming the start.
  fileprivate static func openLog(
    _ path: String, naming executable: String, _ arguments: [String]
  ) throws -> (FileDescriptor, FileDescriptor) {
    let options: FileDescriptor.OpenOptions = [.create, .append]
    do {
      let first = try FileDescriptor.open(FilePath(path), .writeOnly, options: options, permissions: .ownerReadWrite)
      _ = try first.writeAll(Array("=== start: \(executable) \(arguments.joined(separator: " "))\n".utf8))
      let second = try FileDescriptor.open(FilePath(path), .writeOnly, options: options, permissions: .ownerReadWrite)
      return (first, second)
    } catch {
      throw ManagedProcessError("cannot open \(path) for the output of \(executable): \(error)")
    }
  }
}

/// Runs one child to its end and returns its exit code (-1 if it could not be started).
private func exitCode(_ body: () async throws -> TerminationStatus) async -> Int32 {
  do {
    return ChildEnvironment.exitCode(try await body())
  } catch {
    return -1
  }
}

/// Appends every chunk of `sequence` to `text` until the child closes it.
private func append(_ sequence: SubprocessOutputSequence, to text: LockedText) async {
  do {
    for try await buffer in sequence {
      text.append(buffer.withUnsafeBytes { String(decoding: $0, as: UTF8.self) })
    }
  } catch {
    text.append("\n[reading the child's output failed: \(error)]\n")
  }
}

/// A process could not be started or controlled.
public struct ManagedProcessError: Error, CustomStringConvertible {
  public var description: String

  public init(_ description: String) {
    self.description = description
  }
}
