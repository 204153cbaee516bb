import Foundation
import O3Common
import O3Service
import OzoneManager

/// The steps of `o3 om --bootstrap [--force]` around the running server: before it starts,
/// check that every existing OM's configuration lists this OM and create its storage; once it
/// serves, ask the leader to add it until it is a voter.
enum BootstrapJoin {
  /// Checks the other OMs' configurations (unless `force`), initialises the storage if needed
  /// and marks it as joined, so that the server starts with no members of its own.
  static func prepare(_ settings: inout OzoneManagerServer.Settings, force: Bool) async throws {
    let service = settings.service
    let others = service.nodes.filter { $0.nodeID != service.localNodeID }
    guard service.serviceID != nil, !others.isEmpty else {
      throw CommandFailure(
        message: "--bootstrap joins an OM service: list this OM and the running ones in ozone.om.nodes.<service id>",
        exitCode: 1)
    }
    if force {
      say("--force: not checking that \(others.map(\.nodeID).joined(separator: ",")) list \(service.localNodeID)")
    } else {
      let problems = await OMBootstrap.checkConfigurations(service)
      guard problems.isEmpty else {
        throw CommandFailure(
          message: "cannot bootstrap \(service.localNodeID): OM(s) \(problems.map(\.nodeID).joined(separator: ",")) "
            + "do not list it at its addresses. Add it to ozone.om.nodes.\(service.serviceID!) and its "
            + "ozone.om.address / ozone.om.ratis.port keys in their ozone-site.xml (they re-read it; no restart), "
            + "or pass --force.\n" + problems.map { "  \($0)" }.joined(separator: "\n"),
          exitCode: 1)
      }
      say("the configurations of \(others.map(\.nodeID).joined(separator: ",")) list \(service.localNodeID)")
    }
    do {
      if !settings.storage.isInitialized {
        let clusterID = try await settings.storage.initialize()
        say("storage initialised at \(settings.storage.metadataDirectory) (cluster \(clusterID))")
      }
      try OMJoinMarker.write(settings.storage)
    } catch {
      throw CommandFailure(message: "cannot prepare the storage of \(service.localNodeID): \(error)", exitCode: 1)
    }
    settings.joinsExistingGroup = true
  }

  /// Asks the leader until this OM is a voter, printing progress; gives up on a signal.
  static func join(_ service: OMServiceConfiguration, signals: TerminationSignal) async throws {
    do throws(OMAdminError) {
      let done = try await OMBootstrap.join(service, stop: { signals.received != nil }) { say($0) }
      say("\(done.nodeId) joined the OM service as a voter")
    } catch {
      throw CommandFailure(message: "cannot bootstrap \(service.localNodeID): \(error)", exitCode: 1)
    }
  }

  /// One progress line on standard output, written at once (a pipe would otherwise buffer it).
  private static func say(_ text: String) {
    FileHandle.standardOutput.write(Data("Bootstrap: \(text)\n".utf8))
  }
}
