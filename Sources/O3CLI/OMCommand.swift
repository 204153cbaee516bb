import ArgumentParser
import Foundation
import Logging
import NIOPosix
import O3Common
import O3Service
import OzoneManager

/// `o3 om`: runs one Ozone Manager; `o3 om --init` prepares its storage first, and
/// `o3 om --bootstrap` adds a new OM to a running service.
struct OMCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "om",
    abstract: "Run an Ozone Manager (use --init once to create its storage, or --bootstrap to join a running service).")

  @OptionGroup var configurationOptions: ConfigurationOptions
  @OptionGroup var processOptions: ServiceProcessOptions

  @Flag(name: .customLong("init"), help: "Create the OM's storage and exit; refuses to overwrite an initialised OM.")
  var initialize = false

  @Flag(
    name: .customLong("bootstrap"),
    help: "Join the running OM service this configuration lists (creating the storage if needed), then keep serving.")
  var bootstrap = false

  @Flag(
    name: .customLong("force"),
    help: "With --bootstrap: skip checking that every existing OM's configuration lists this OM at its addresses.")
  var force = false

  func validate() throws {
    if initialize && bootstrap { throw ValidationError("give at most one of --init and --bootstrap") }
    if force && !bootstrap { throw ValidationError("--force only applies to --bootstrap") }
  }

  func run() async throws {
    O3Logging.bootstrap()
    let configuration = try configurationOptions.load()
    var settings: OzoneManagerServer.Settings
    do {
      settings = try OzoneManagerServer.Settings(configuration: configuration)
    } catch {
      throw CommandFailure(message: "\(error)", exitCode: 1)
    }
    // Ozone re-reads ozone-site.xml when asked: an OM added later is learned from the file.
    settings.reloadConfiguration = { [file = configurationOptions.conf, overrides = configurationOptions.overrides] in
      try OzoneConfiguration.load(file: file, overrides: overrides)
    }
    if initialize {
      do {
        let clusterID = try await settings.storage.initialize()
        print("OM storage initialised at \(settings.storage.metadataDirectory) (cluster \(clusterID))")
      } catch {
        throw CommandFailure(message: "\(error)", exitCode: 1)
      }
      return
    }
    if bootstrap {
      try await BootstrapJoin.prepare(&settings, force: force)
    }
    try await OMCommand.serve(settings: settings, process: try processOptions.begin("om"), joining: bootstrap)
  }

  /// Serves until SIGINT or SIGTERM, then shuts down cleanly; with `joining`, first asks the
  /// leader to add this OM (`BootstrapJoin.join`).
  static func serve(settings: OzoneManagerServer.Settings, process: ServiceProcess, joining: Bool = false) async throws {
    try await process.serve {
      do {
        return try await OzoneManagerServer.start(settings: settings, group: MultiThreadedEventLoopGroup.singleton)
      } catch {
        throw CommandFailure(message: "cannot start the OM: \(error)", exitCode: 1)
      }
    } afterStart: { _ in
      if joining { try await BootstrapJoin.join(settings.service, signals: process.signals) }
    } stop: { server in
      await server.shutdown()
    }
  }
}
