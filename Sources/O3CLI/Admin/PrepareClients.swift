import Foundation
import NIOCore
import O3Common
import OMProto
import OzoneClient
import OzoneManager

/// How `o3 admin om prepare` and `cancelprepare` reach the OMs: the service through its leader
/// for Prepare and CancelPrepare (logged writes), and each OM on its own for PrepareStatus,
/// which every OM answers from its own state.
enum PrepareClients {
  /// A client of the whole service, failing over to the leader as any client does.
  static func service(_ options: AdminServiceOptions, callTimeoutSeconds: Double) async throws -> OzoneClient {
    let service = try options.service()
    let configuration = try options.configurationOptions.load()
    let failover: OMFailoverPolicy
    do {
      failover = try OMFailoverPolicy(configuration: configuration)
    } catch {
      throw CommandFailure(message: "\(error)", exitCode: 1)
    }
    let nodes = service.nodes.map { OMNodeAddress(nodeID: $0.nodeID, address: OMAdminClient.dialable($0.clientAddress)) }
    return await OzoneClient.connect(
      to: OMServiceAddresses(serviceID: service.serviceID, nodes: nodes), failover: failover, userName: userName,
      callTimeout: .milliseconds(Int64(callTimeoutSeconds * 1000)))
  }

  /// One OM's PrepareStatus, or why it did not answer.
  static func status(of node: OMNodeDetails, preparedAt index: UInt64, timeoutSeconds: Double) async -> Result<
    PrepareStatusResponse, OzoneClientError
  > {
    do {
      // One try: an OM that does not answer is reported and asked again in the next round.
      let client = try await OzoneClient.connect(
        to: OMAdminClient.dialable(node.clientAddress), userName: userName,
        callTimeout: .milliseconds(Int64(timeoutSeconds * 1000)), failover: OMFailoverPolicy(maxAttempts: 0))
      defer { Task { await client.close() } }
      var request = PrepareStatusRequest()
      request.txnID = index
      return .success(try await client.call(.prepareStatus, .prepareStatusRequest(request)).prepareStatusResponse)
    } catch let error as OzoneClientError {
      return .failure(error)
    } catch {
      return .failure(.transport("\(error)"))
    }
  }

  /// The user the requests act as, as the shell commands name it.
  static var userName: String {
    let name = ProcessInfo.processInfo.environment["USER"] ?? ProcessInfo.processInfo.userName
    return name.isEmpty ? "anonymous" : name
  }

  /// A failed Prepare or CancelPrepare as the command reports it.
  static func failure(_ error: Error, doing what: String) -> CommandFailure {
    CommandFailure(message: "\(what) failed: \((error as? OzoneClientError)?.description ?? "\(error)")")
  }
}
