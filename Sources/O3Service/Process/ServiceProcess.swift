import Foundation
import Logging

#if canImport(Glibc)
  import Glibc
#endif

/// The life of one server process (`o3 om`, `o3 scm`, `o3 datanode`, `o3 s3g`): where it logs,
/// its pid file, and serving until SIGINT or SIGTERM ends it cleanly.
///
/// Ozone's daemon scripts keep `ozone-<user>-<command>.pid` in `OZONE_PID_DIR` and the log in
/// `OZONE_LOG_DIR`; here the command line names the files (`--pid-file`, `--log-file`), and
/// without them the process writes no pid file and logs to standard error.
public final class ServiceProcess: Sendable {
  public struct Options: Sendable {
    /// Written with this process's id once it runs; refused while another live process's id is
    /// in it; removed when the process stops.
    public var pidFile: String?
    /// Standard output and error are appended to it.
    public var logFile: String?

    public init(pidFile: String? = nil, logFile: String? = nil) {
      self.pidFile = pidFile
      self.logFile = logFile
    }
  }

  /// What went wrong setting up the process; nothing was changed when this is thrown.
  public struct Failure: Error, CustomStringConvertible, Sendable {
    public var description: String
  }

  /// `om`, `scm`: how messages name the server.
  public let name: String
  public let options: Options
  /// SIGINT and SIGTERM, caught from the start so a signal during start-up ends cleanly too.
  public let signals: TerminationSignal

  private init(name: String, options: Options, signals: TerminationSignal) {
    self.name = name
    self.options = options
    self.signals = signals
  }

  /// Takes the pid file, points standard output and error at the log file, and starts catching
  /// termination signals.
  public static func begin(name: String, options: Options) throws -> ServiceProcess {
    if let pidFile = options.pidFile { try claim(pidFile: pidFile, name: name) }
    if let logFile = options.logFile {
      do {
        try redirectOutput(to: logFile)
      } catch {
        if let pidFile = options.pidFile { try? FileManager.default.removeItem(atPath: pidFile) }
        throw error
      }
    }
    return ServiceProcess(name: name, options: options, signals: TerminationSignal.install())
  }

  /// Starts the server, runs `afterStart` (e.g. joining a running group), serves until a
  /// termination signal, then stops it; the pid file goes in every case.
  public func serve<Server: Sendable>(
    start: () async throws -> Server, afterStart: (Server) async throws -> Void = { _ in },
    stop: (Server) async -> Void
  ) async throws {
    defer { end() }
    let server = try await start()
    do {
      try await afterStart(server)
    } catch {
      await stop(server)
      throw error
    }
    let signal = await signals.wait()
    Logger(label: "o3.\(name)").info("received \(signal); shutting down")
    await stop(server)
  }

  /// Removes the pid file if it still holds this process's id.
  public func end() {
    guard let pidFile = options.pidFile, Self.recordedPID(pidFile) == getpid() else { return }
    try? FileManager.default.removeItem(atPath: pidFile)
  }

  /// Writes this process's id to `pidFile`, refusing when the file names another live process.
  static func claim(pidFile: String, name: String) throws {
    if let other = recordedPID(pidFile), other != getpid(), kill(other, 0) == 0 || errno == EPERM {
      throw Failure(description: "\(name) is already running as process \(other) (pid file \(pidFile))")
    }
    let directory = (pidFile as NSString).deletingLastPathComponent
    do {
      if !directory.isEmpty { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
      try "\(getpid())\n".write(toFile: pidFile, atomically: true, encoding: .utf8)
    } catch {
      throw Failure(description: "cannot write the pid file \(pidFile): \(error.localizedDescription)")
    }
  }

  /// The process id a pid file holds, if it holds one.
  static func recordedPID(_ pidFile: String) -> pid_t? {
    guard let text = try? String(contentsOfFile: pidFile, encoding: .utf8) else { return nil }
    return pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines))
  }

  private static func redirectOutput(to logFile: String) throws {
    let directory = (logFile as NSString).deletingLastPathComponent
    if !directory.isEmpty { try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
    let descriptor = open(logFile, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
    guard descriptor >= 0 else {
      throw Failure(description: "cannot open the log file \(logFile): \(String(cString: strerror(errno)))")
    }
    defer { close(descriptor) }
    fflush(nil)  // every stream: what was printed before goes where it was meant to
    dup2(descriptor, STDOUT_FILENO)
    dup2(descriptor, STDERR_FILENO)
  }
}
