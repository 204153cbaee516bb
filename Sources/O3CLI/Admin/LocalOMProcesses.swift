import Foundation
import OzoneManager

/// The `o3 om` child processes of `o3 local`, one per node, each writing to its node's `om.log`.
///
/// Used from the one task that runs `o3 local`.
final class LocalOMProcesses {
  private struct Child {
    var nodeID: String
    var process: Process
    var logFile: String
    var reportedExit = false
  }

  let root: String
  private var children: [Child]

  private init(root: String, children: [Child]) {
    self.root = root
    self.children = children
  }

  /// Starts `o3 om --conf <node>/ozone-site.xml` for every node of `layout`.
  static func start(_ layout: LocalServiceLayout) throws -> LocalOMProcesses {
    let executable = URL(fileURLWithPath: Bundle.main.executablePath ?? CommandLine.arguments[0])
    let processes = LocalOMProcesses(root: layout.root, children: [])
    for node in layout.nodes {
      let process = Process()
      process.executableURL = executable
      process.arguments = ["om", "--conf", node.configurationFile]
      process.standardInput = FileHandle.nullDevice
      do {
        let log = try appendingHandle(node.logFile)
        process.standardOutput = log
        process.standardError = log
        try process.run()
      } catch {
        processes.kill()
        throw CommandFailure(message: "o3 local: cannot start \(node.nodeID) (\(executable.path) om): \(error)", exitCode: 1)
      }
      processes.children.append(Child(nodeID: node.nodeID, process: process, logFile: node.logFile))
    }
    return processes
  }

  /// How an OM ended, for people; nil when it exited with status 0.
  private static func failure(_ process: Process) -> String? {
    switch process.terminationReason {
    case .uncaughtSignal: "was killed by signal \(process.terminationStatus)"
    case .exit: process.terminationStatus == 0 ? nil : "exited with status \(process.terminationStatus)"
    @unknown default: "ended with status \(process.terminationStatus)"
    }
  }

  /// The OMs that ended since the last call, each with how it ended.
  func newlyExited() -> [(nodeID: String, outcome: String)] {
    var exited: [(nodeID: String, outcome: String)] = []
    for index in children.indices where !children[index].reportedExit && !children[index].process.isRunning {
      children[index].reportedExit = true
      exited.append((children[index].nodeID, Self.failure(children[index].process) ?? "exited"))
    }
    return exited
  }

  /// Sends SIGTERM to every running OM and waits until all have exited; one still running
  /// after `timeout` is killed. Returns how each OM that was running failed to stop cleanly
  /// (empty when all did); OMs that ended earlier were already reported by `newlyExited`.
  func terminate(within timeout: Duration, pollInterval: Duration) async -> [(nodeID: String, outcome: String)] {
    let running = children.filter { $0.process.isRunning }
    for child in running {
      Foundation.kill(child.process.processIdentifier, SIGTERM)
    }
    let deadline = ContinuousClock.now + timeout
    while running.contains(where: { $0.process.isRunning }) && ContinuousClock.now < deadline {
      try? await Task.sleep(for: pollInterval)
    }
    var outcomes: [(nodeID: String, outcome: String)] = []
    for child in running {
      if child.process.isRunning {
        Foundation.kill(child.process.processIdentifier, SIGKILL)
        // Polled, not waitUntilExit: a blocked thread of the cooperative pool stalls every task.
        while child.process.isRunning { try? await Task.sleep(for: pollInterval) }
        outcomes.append((child.nodeID, "did not stop within \(timeout) and was killed"))
      } else if let failure = Self.failure(child.process) {
        outcomes.append((child.nodeID, failure))
      }
    }
    return outcomes
  }

  /// Sends SIGKILL to every OM still running, without waiting; for failure paths where a clean
  /// stop cannot wait (`o3 local` exits next).
  func kill() {
    for child in children where child.process.isRunning {
      Foundation.kill(child.process.processIdentifier, SIGKILL)
    }
  }

  /// The last lines of a node's log, to explain why it stopped.
  func logTail(of nodeID: String, lines: Int = 20) -> String {
    guard let child = children.first(where: { $0.nodeID == nodeID }),
      let text = try? String(contentsOfFile: child.logFile, encoding: .utf8)
    else { return "(no log)" }
    return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
  }

  /// The log file opened for appending (created if missing), so restarts keep earlier runs.
  private static func appendingHandle(_ path: String) throws -> FileHandle {
    if !FileManager.default.fileExists(atPath: path), !FileManager.default.createFile(atPath: path, contents: nil) {
      throw CommandFailure(message: "o3 local: cannot create \(path)", exitCode: 1)
    }
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    try handle.seekToEnd()
    return handle
  }
}
