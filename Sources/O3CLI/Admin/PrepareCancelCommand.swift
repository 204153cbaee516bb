import ArgumentParser
import OMProto
import OzoneClient

/// `o3 admin om cancelprepare`: lets prepared OMs accept writes again (Ozone's
/// `ozone admin om cancelprepare`). CancelPrepare is logged like Prepare, so every OM applies
/// it, drops its prepare state and removes its marker file.
struct CancelPrepareCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "cancelprepare", abstract: "Cancel 'o3 admin om prepare': the OMs accept writes again.")

  @OptionGroup var serviceOptions: AdminServiceOptions

  @Option(name: .long, help: "Seconds to wait for the leader to apply the request.")
  var timeoutSeconds: Double = 120

  func run() async throws {
    let client = try await PrepareClients.service(serviceOptions, callTimeoutSeconds: timeoutSeconds)
    defer { Task { await client.close() } }
    do {
      try await client.call(.cancelPrepare, .cancelPrepareRequest(CancelPrepareRequest()))
    } catch {
      throw PrepareClients.failure(error, doing: "CancelPrepare")
    }
    print("Cancel prepare succeeded, cluster can now accept write requests.")
  }
}
