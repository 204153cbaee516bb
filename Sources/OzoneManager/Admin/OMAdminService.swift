import Foundation
import Logging
import NIOCore
import O3Common
import O3RPC
import Raft
import RaftCore

/// The server side of the admin protocol (`OMAdminProtocol`): roles, leadership transfer, and
/// (through `OMMembershipService`) configuration, bootstrap and decommission.
///
/// Admin calls are rare, so each one runs as a task off the event loop.
final class OMAdminService: Sendable {
  private let reporter: OMStatusReporter
  private let leadershipTransfer: OMLeadershipTransfer
  private let membership: OMMembershipService

  /// - Parameters:
  ///   - reloadConfiguration: re-reads the OM's configuration file (with its command-line overrides).
  ///   - heartbeatInterval: the Raft heartbeat's wall-clock interval, which paces liveness checks.
  init(
    reporter: OMStatusReporter, transferTimeout: Duration,
    reloadConfiguration: @escaping @Sendable () throws -> OzoneConfiguration, heartbeatInterval: Duration, logger: Logger
  ) {
    self.reporter = reporter
    let leadershipTransfer = OMLeadershipTransfer(reporter: reporter, timeout: transferTimeout)
    self.leadershipTransfer = leadershipTransfer
    membership = OMMembershipService(
      reporter: reporter, reloadConfiguration: reloadConfiguration, heartbeatInterval: heartbeatInterval, logger: logger
    ) { request throws(OMAdminError) in try await leadershipTransfer.run(request) }
  }

  /// Adds this service's methods to `router`.
  func register(into router: inout RPCRouter) {
    router.register(OMAdminProtocol.rolesMethod) { [self] _, _, responder in
      Task { await Self.answer(responder) { () throws(OMAdminError) in try await self.roles() } }
    }
    router.register(OMAdminProtocol.transferMethod) { [self] payload, _, responder in
      let bytes = Array(payload.readableBytesView)
      Task {
        await Self.answer(responder) { () throws(OMAdminError) in
          try await self.transfer(try OMAdminProtocol.decode(OMTransferRequest.self, from: bytes))
        }
      }
    }
    router.register(OMAdminProtocol.configurationMethod) { [self] _, _, responder in
      Task { await Self.answer(responder) { () throws(OMAdminError) in try self.membership.configuration() } }
    }
    router.register(OMAdminProtocol.bootstrapMethod) { [self] payload, _, responder in
      let bytes = Array(payload.readableBytesView)
      Task {
        await Self.answer(responder) { () throws(OMAdminError) in
          try await self.membership.bootstrap(try OMAdminProtocol.decode(OMBootstrapRequest.self, from: bytes))
        }
      }
    }
    router.register(OMAdminProtocol.decommissionMethod) { [self] payload, _, responder in
      let bytes = Array(payload.readableBytesView)
      Task {
        await Self.answer(responder) { () throws(OMAdminError) in
          try await self.membership.decommission(try OMAdminProtocol.decode(OMDecommissionRequest.self, from: bytes))
        }
      }
    }
  }

  func roles() async throws(OMAdminError) -> OMNodeStatus {
    guard let status = await reporter.status() else { throw OMAdminError(.unavailable, "the OM is shutting down") }
    return status
  }

  /// Starts the transfer on this leader and returns once the target leads in a newer term.
  func transfer(_ request: OMTransferRequest) async throws(OMAdminError) -> OMTransferResult {
    try await leadershipTransfer.run(request)
  }

  /// Runs `body` and answers with its JSON result or its error.
  private static func answer(
    _ responder: RPCResponder, _ body: () async throws(OMAdminError) -> some Encodable
  ) async {
    do {
      responder.succeed(bytes: OMAdminProtocol.encode(try await body()))
    } catch {
      responder.fail(RPCRemoteError(code: error.code.rawValue, message: error.message))
    }
  }
}
