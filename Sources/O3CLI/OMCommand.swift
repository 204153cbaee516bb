import ArgumentParser
import Foundation
import Logging
import NIOPosix
import O3Common
import OzoneManager
import Synchronization

/// `o3 om`: runs one Ozone Manager; `o3 om --init` prepares its storage first, and
/// `o3 om --bootstrap` adds a new OM to a running service.
struct OMCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "om",
    abstract: "Run an Ozone Manager (use --init once to create its storage, or --bootstrap to join a running service).")

  @OptionGroup var configurationOptions: ConfigurationOptions

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
    try await OMCommand.serve(settings: settings, joining: bootstrap)
  }

  /// Serves until SIGINT or SIGTERM, then shuts down cleanly; with `joining`, first asks the
  /// leader to add this OM (`BootstrapJoin.join`).
  static func serve(settings: OzoneManagerServer.Settings, joining: Bool = false) async throws {
    // Caught from the start, so a signal during start-up also ends in a clean shutdown.
    let signals = TerminationSignal.install()
    let server: OzoneManagerServer
    do {
      server = try await OzoneManagerServer.start(settings: settings, group: MultiThreadedEventLoopGroup.singleton)
    } catch {
      throw CommandFailure(message: "cannot start the OM: \(error)", exitCode: 1)
    }
    if joining {
      do {
        try await BootstrapJoin.join(settings.service, signals: signals)
      } catch {
        await server.shutdown()
        throw error
      }
    }
    let signal = await signals.wait()
    Logger(label: "o3.om").info("received \(signal); shutting down")
    await server.shutdown()
  }
}

/// SIGINT and SIGTERM, caught (instead of ending the process) so that servers stop cleanly.
final class TerminationSignal: @unchecked Sendable {
  // @unchecked: `sources` is written only in `install`, before any handler can run, and is
  // only kept alive; everything else is behind `state`.
  private var sources: [any DispatchSourceSignal] = []
  private let state = Mutex<(received: String?, waiters: [CheckedContinuation<String, Never>])>((nil, []))

  private init() {}

  /// Starts catching SIGINT and SIGTERM for the rest of the process's life.
  static func install() -> TerminationSignal {
    let catcher = TerminationSignal()
    let queue = DispatchQueue(label: "o3-signals")
    for (number, name) in [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM")] {
      signal(number, SIG_IGN)
      let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
      source.setEventHandler { catcher.deliver(name) }
      source.resume()
      catcher.sources.append(source)
    }
    return catcher
  }

  /// The first signal received so far, if any.
  var received: String? { state.withLock { $0.received } }

  /// Returns the name of the first termination signal (at once if one already arrived).
  func wait() async -> String {
    await withCheckedContinuation { continuation in
      let already: String? = state.withLock { state in
        if let received = state.received { return received }
        state.waiters.append(continuation)
        return nil
      }
      if let already { continuation.resume(returning: already) }
    }
  }

  private func deliver(_ name: String) {
    let waiters: [CheckedContinuation<String, Never>] = state.withLock { state in
      guard state.received == nil else { return [] }
      state.received = name
      defer { state.waiters = [] }
      return state.waiters
    }
    for waiter in waiters { waiter.resume(returning: name) }
  }
}
