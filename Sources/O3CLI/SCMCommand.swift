import ArgumentParser
import Foundation
import Logging
import NIOPosix
import O3Common
import O3Service
import StorageContainerManager

/// `o3 scm`: runs one Storage Container Manager; `o3 scm --init` prepares its storage first.
struct SCMCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "scm", abstract: "Run a Storage Container Manager (use --init once to create its storage).")

  @OptionGroup var configurationOptions: ConfigurationOptions
  @OptionGroup var processOptions: ServiceProcessOptions

  @Flag(name: .customLong("init"), help: "Create the SCM's storage (VERSION and scm.db) and exit; refuses an initialised SCM.")
  var initialize = false

  @Option(name: .customLong("clusterid"), help: "With --init: the cluster id to use (a UUID) instead of a new one.")
  var clusterID: String?

  func validate() throws {
    if clusterID != nil && !initialize { throw ValidationError("--clusterid only applies to --init") }
  }

  func run() async throws {
    O3Logging.bootstrap()
    let configuration = try configurationOptions.load()
    let settings: StorageContainerManagerServer.Settings
    do {
      settings = try StorageContainerManagerServer.Settings(configuration: configuration)
    } catch {
      throw CommandFailure(message: "\(error)", exitCode: 1)
    }
    if initialize {
      do {
        let version = try await settings.storage.initialize(clusterID: clusterID)
        print("SCM storage initialised at \(settings.storage.rootDirectory) (cluster \(version.clusterID), scm id \(version.scmID))")
      } catch {
        throw CommandFailure(message: "\(error)", exitCode: 1)
      }
      return
    }
    let process = try processOptions.begin("scm")
    try await process.serve {
      do {
        return try await StorageContainerManagerServer.start(settings: settings, group: MultiThreadedEventLoopGroup.singleton)
      } catch {
        throw CommandFailure(message: "cannot start the SCM: \(error)", exitCode: 1)
      }
    } stop: { server in
      await server.shutdown()
    }
  }
}
