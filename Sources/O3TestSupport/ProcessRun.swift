import Foundation
import Subprocess

#if canImport(System)
  import System
#else
  import SystemPackage
#endif

/// One finished run of a child process: exit code (128 + the signal of a killed one) and
/// everything it wrote.
public struct ProcessRun: Sendable {
  public var exitCode: Int32
  public var standardOutput: String
  public var standardError: String

  /// Standard output parsed as JSON, or nil.
  public var json: Any? { try? JSONSerialization.jsonObject(with: Data(standardOutput.utf8)) }

  /// The bound on what one run may print to each stream: far above any command's output in the
  /// tests, so hitting it is a bug worth an error.
  public static let outputBytesMax = 64 << 20

  /// Runs `executable arguments…` to its end, with `environment` added to this process's and
  /// standard input empty. The wait suspends: no thread of Swift's cooperative pool (two on a
  /// two-core machine) is held while the child runs — swift-subprocess watches the child's
  /// pidfd and pipes from a thread of its own.
  public static func run(
    _ executable: String, _ arguments: [String], environment: [String: String] = [:]
  ) async throws -> ProcessRun {
    let result = try await Subprocess.run(
      .path(FilePath(executable)), arguments: Arguments(arguments),
      environment: ChildEnvironment.inheriting(environment),
      output: .string(limit: outputBytesMax), error: .string(limit: outputBytesMax))
    return ProcessRun(
      exitCode: ChildEnvironment.exitCode(result.terminationStatus),
      standardOutput: result.standardOutput ?? "", standardError: result.standardError ?? "")
  }
}

/// Conversions shared by the process helpers.
enum ChildEnvironment {
  /// This process's environment with `overrides` on top.
  static func inheriting(_ overrides: [String: String]) -> Subprocess.Environment {
    var updates: [Subprocess.Environment.Key: String?] = [:]
    for (name, value) in overrides { updates[Subprocess.Environment.Key(stringLiteral: name)] = value }
    return .inherit.updating(updates)
  }

  /// A shell-style exit code: the code of a normal exit, 128 + the signal of a killed process.
  static func exitCode(_ status: TerminationStatus) -> Int32 {
    switch status {
    case .exited(let code): return Int32(code)
    case .signaled(let signal): return 128 + Int32(signal)
    }
  }
}
