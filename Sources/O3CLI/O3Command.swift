import ArgumentParser
import Foundation
import O3Common
import O3Service

/// `o3`: the one executable — OM server, shell, load generator and local cluster.
@main
struct O3Command: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "o3",
    abstract: "O3: Apache Ozone's Ozone Manager, highly available, in Swift.",
    subcommands: [OMCommand.self, SCMCommand.self, DatanodeCommand.self, ShellCommand.self, AdminCommand.self, FreonCommand.self, LocalCommand.self])

  /// Ozone's shell exits 2 on a usage error (picocli) and 255 on a failed operation.
  static func main() async {
    do {
      var command = try parseAsRoot()
      if var asyncCommand = command as? AsyncParsableCommand {
        try await asyncCommand.run()
      } else {
        try command.run()
      }
    } catch let failure as CommandFailure {
      FileHandle.standardError.write(Data((failure.message + "\n").utf8))
      Foundation.exit(failure.exitCode)
    } catch {
      let code = exitCode(for: error)
      if code == .validationFailure {
        FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
        Foundation.exit(2)
      }
      exit(withError: error)
    }
  }
}

/// A failure the CLI reports on one line with its own exit code.
struct CommandFailure: Error {
  var message: String
  var exitCode: Int32 = 255
}

/// `--conf FILE` and `--set key=value`, shared by every command that reads configuration.
struct ConfigurationOptions: ParsableArguments {
  @Option(name: .long, help: "Configuration file (default: $OZONE_CONF_DIR/ozone-site.xml).")
  var conf: String?

  @Option(name: .customLong("set"), help: "Override a configuration key: --set key=value (repeatable).")
  var overrides: [String] = []

  func load() throws -> OzoneConfiguration {
    do {
      return try OzoneConfiguration.load(file: conf, overrides: overrides)
    } catch let error as ConfigurationError {
      throw CommandFailure(message: error.description, exitCode: 1)
    }
  }
}

/// Where a server process keeps its pid file and log (`ServiceProcess`), shared by every server
/// command.
struct ServiceProcessOptions: ParsableArguments {
  @Option(name: .customLong("pid-file"), help: "Write this process's id here while it runs (refused while another live process holds it).")
  var pidFile: String?

  @Option(name: .customLong("log-file"), help: "Append standard output and error to this file instead of the terminal.")
  var logFile: String?

  var options: ServiceProcess.Options { ServiceProcess.Options(pidFile: pidFile, logFile: logFile) }

  /// Begins the process's life as `name`; a refusal becomes the command's error (exit 1).
  func begin(_ name: String) throws -> ServiceProcess {
    do {
      return try ServiceProcess.begin(name: name, options: options)
    } catch let failure as ServiceProcess.Failure {
      throw CommandFailure(message: failure.description, exitCode: 1)
    }
  }
}
