import ArgumentParser
import Foundation
import Logging
import NIOPosix
import O3Common
import OzoneManager

/// `o3 om`: runs one Ozone Manager; `o3 om --init` prepares its storage first.
struct OMCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "om", abstract: "Run an Ozone Manager (use --init once to create its storage).")

  @OptionGroup var configurationOptions: ConfigurationOptions

  @Flag(name: .customLong("init"), help: "Create the OM's storage and exit; refuses to overwrite an initialised OM.")
  var initialize = false

  func run() async throws {
    O3Logging.bootstrap()
    let configuration = try configurationOptions.load()
    let settings: OzoneManagerServer.Settings
    do {
      settings = try OzoneManagerServer.Settings(configuration: configuration)
    } catch {
      throw CommandFailure(message: "\(error)", exitCode: 1)
    }
    if initialize {
      do {
        let clusterID = try settings.storage.initialize()
        print("OM storage initialised at \(settings.storage.metadataDirectory) (cluster \(clusterID))")
      } catch {
        throw CommandFailure(message: "\(error)", exitCode: 1)
      }
      return
    }
    try await OMCommand.serve(settings: settings)
  }

  /// Serves until SIGINT or SIGTERM, then shuts down cleanly.
  static func serve(settings: OzoneManagerServer.Settings) async throws {
    let server: OzoneManagerServer
    do {
      server = try await OzoneManagerServer.start(settings: settings, group: MultiThreadedEventLoopGroup.singleton)
    } catch {
      throw CommandFailure(message: "cannot start the OM: \(error)", exitCode: 1)
    }
    let signal = await TerminationSignal.wait()
    Logger(label: "o3.om").info("received \(signal); shutting down")
    await server.shutdown()
  }
}

/// Waits for SIGINT or SIGTERM.
final class TerminationSignal: @unchecked Sendable {
  // @unchecked: `sources` is set once in `wait` before any handler can run, and only kept alive.
  private var sources: [DispatchSourceSignal] = []
  private let once = OnceFlag()

  /// Returns the name of the first termination signal received.
  static func wait() async -> String {
    let waiter = TerminationSignal()
    return await withCheckedContinuation { (continuation: CheckedContinuation<String, Never>) in
      let queue = DispatchQueue(label: "o3-signals")
      for (number, name) in [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM")] {
        signal(number, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
        source.setEventHandler {
          if waiter.once.take() { continuation.resume(returning: name) }
        }
        source.resume()
        waiter.sources.append(source)
      }
    }
  }
}
