import Foundation
import O3TestSupport
import Testing

/// A server's process life through the service kit's `ServiceProcess`, as `o3 om` uses it: the
/// pid file, the log file, a second process refused while the first runs, a clean stop on SIGTERM.
@Suite(.watchdog) struct ServiceProcessTests {
  @Test func pidFileAndLogFileOfARunningOM() async throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("o3-process-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let initialised = try await O3Binary.run(["om", "--init", "--set", "ozone.metadata.dirs=\(directory)/om"])
    #expect(initialised.exitCode == 0, "o3 om --init: \(initialised.standardError)")
    let (pidFile, logFile) = ("\(directory)/run/om.pid", "\(directory)/logs/om.log")
    let arguments = [
      "om", "--set", "ozone.metadata.dirs=\(directory)/om", "--set", "ozone.om.address=127.0.0.1:0",
      "--set", "ozone.om.ratis.port=0", "--pid-file", pidFile, "--log-file", logFile,
    ]
    let om = try await ManagedProcess.start(executable: O3Binary.path, arguments: arguments, output: .collected)
    try await waitUntil("the OM logs that it started", timeout: .seconds(120)) {
      guard om.isRunning else { throw OMProcessError(message: "o3 om ended: \(om.standardError)") }
      return ((try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "").contains("OM started")
    }
    let recorded = try String(contentsOfFile: pidFile, encoding: .utf8)
    #expect(recorded == "\(om.pid)\n", "the pid file holds the OM's process id")
    #expect(om.standardError.isEmpty, "the log went to the log file, not the terminal: \(om.standardError)")

    let second = try await O3Binary.run(arguments)
    #expect(second.exitCode == 1)
    #expect(second.standardError.contains("om is already running as process \(om.pid) (pid file \(pidFile))"), "\(second.standardError)")
    #expect(try String(contentsOfFile: pidFile, encoding: .utf8) == recorded, "the refused process left the pid file alone")

    let status = await om.terminate()
    #expect(status == 0, "SIGTERM stops the OM cleanly")
    #expect(!FileManager.default.fileExists(atPath: pidFile), "a stopped OM removes its pid file")
    let log = try String(contentsOfFile: logFile, encoding: .utf8)
    #expect(log.contains("received SIGTERM; shutting down") && log.contains("OM stopped"), "\(log.suffix(2_000))")
  }
}
