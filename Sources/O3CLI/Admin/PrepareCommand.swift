import ArgumentParser
import Foundation
import OMProto
import OzoneClient
import OzoneManager

/// `o3 admin om prepare`: prepares the OMs for an upgrade or downgrade (Ozone's
/// `ozone admin om prepare`). The leader logs a Prepare; every OM applies it, waits until its
/// database holds every transaction up to it, purges its Raft log through it, and then refuses
/// every write (NOT_SUPPORTED_OPERATION_WHEN_PREPARED) until `o3 admin om cancelprepare`, across
/// restarts. The command then asks each OM until all are prepared, or a majority when the
/// prepare timeout ends, as Ozone's does.
struct PrepareCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "prepare",
    abstract: "Prepare the OMs for an upgrade: apply and flush every transaction, purge the Raft logs, refuse writes.",
    discussion: "Writes stay refused, across restarts, until 'o3 admin om cancelprepare'.")

  @OptionGroup var serviceOptions: AdminServiceOptions

  @Option(
    name: [.customLong("transaction-apply-wait-timeout"), .customLong("tawt", withSingleDash: true)],
    help: "Seconds to wait for the leader to apply the Prepare request.")
  var transactionApplyWaitTimeoutSeconds: UInt64 = 120

  @Option(
    name: [.customLong("transaction-apply-check-interval"), .customLong("tact", withSingleDash: true)],
    help: "Accepted for Ozone's command line; the OM needs no polling interval.")
  var transactionApplyCheckIntervalSeconds: UInt64 = 5

  @Option(
    name: [.customLong("prepare-timeout"), .customLong("pt", withSingleDash: true)],
    help: "Seconds to wait for every OM to report itself prepared.")
  var prepareTimeoutSeconds: Double = 300

  @Option(
    name: [.customLong("prepare-check-interval"), .customLong("pct", withSingleDash: true)],
    help: "Seconds between two rounds of asking the OMs.")
  var prepareCheckIntervalSeconds: Double = 10

  func validate() throws {
    guard transactionApplyWaitTimeoutSeconds > 0, transactionApplyWaitTimeoutSeconds <= 86_400 else {
      throw ValidationError("--transaction-apply-wait-timeout must be between 1 and 86400 seconds")
    }
    guard prepareTimeoutSeconds > 0, prepareCheckIntervalSeconds > 0 else {
      throw ValidationError("--prepare-timeout and --prepare-check-interval must be positive")
    }
  }

  func run() async throws {
    let service = try serviceOptions.service()
    let prepareIndex = try await sendPrepare()
    print("Ozone Manager Prepare Request successfully returned with Transaction Id : [\(prepareIndex)].")
    print("\nChecking individual OM instances for prepare request completion...")
    var prepared = Set<String>()
    let deadline = Date().addingTimeInterval(prepareTimeoutSeconds)
    while prepared.count < service.nodes.count {
      for node in service.nodes where !prepared.contains(node.nodeID) {
        let answer = await PrepareClients.status(
          of: node, preparedAt: prepareIndex, timeoutSeconds: min(prepareCheckIntervalSeconds, 10) + 5)
        print(Self.line(node.nodeID, answer))
        if case .success(let status) = answer, status.status == .prepareCompleted, status.currentTxnIndex >= prepareIndex {
          prepared.insert(node.nodeID)
        }
      }
      guard prepared.count < service.nodes.count, Date() < deadline else { break }
      print("Waiting for \(Self.seconds(prepareCheckIntervalSeconds)) seconds before retrying...")
      try await Task.sleep(for: .milliseconds(Int64(prepareCheckIntervalSeconds * 1000)))
    }
    try Self.report(prepared: prepared, nodes: service.nodes.map(\.nodeID))
  }

  /// Sends Prepare through the leader; returns the index every OM prepares at.
  private func sendPrepare() async throws -> UInt64 {
    let client = try await PrepareClients.service(
      serviceOptions, callTimeoutSeconds: Double(transactionApplyWaitTimeoutSeconds))
    defer { Task { await client.close() } }
    var request = PrepareRequest()
    request.args.txnApplyWaitTimeoutSeconds = transactionApplyWaitTimeoutSeconds
    request.args.txnApplyCheckIntervalSeconds = transactionApplyCheckIntervalSeconds
    do {
      return try await client.call(.prepare, .prepareRequest(request)).prepareResponse.txnID
    } catch {
      throw PrepareClients.failure(error, doing: "Prepare")
    }
  }

  /// `OM : [om1], Prepare Status : [PREPARE_COMPLETED], Current Transaction Id : [42]`: Ozone's line.
  static func line(_ nodeID: String, _ answer: Result<PrepareStatusResponse, OzoneClientError>) -> String {
    switch answer {
    case .success(let status):
      "OM : [\(nodeID)], Prepare Status : [\(status.status.ozoneName)], Current Transaction Id : [\(status.currentTxnIndex)]"
    case .failure(let error):
      "OM : [\(nodeID)], no answer to PrepareStatus : [\(error)]"
    }
  }

  /// Success when every OM, or at least a majority, is prepared (Ozone's rule: a minority can be
  /// prepared by restarting it once the others are).
  static func report(prepared: Set<String>, nodes: [String]) throws {
    let missing = nodes.filter { !prepared.contains($0) }
    guard prepared.count >= nodes.count / 2 + 1 else {
      throw CommandFailure(
        message: "OM Preparation failed since a majority of OMs are not prepared yet (not prepared: "
          + "\(missing.joined(separator: ", "))); writes stay refused: retry 'o3 admin om prepare', or run "
          + "'o3 admin om cancelprepare'")
    }
    print("\nOM Preparation successful!")
    if missing.isEmpty {
      print("All OMs are prepared")
    } else {
      print("A majority of OMs are prepared. OMs that are not prepared : \(missing.joined(separator: ", "))")
    }
    print(
      "No new write requests will be allowed until preparation is cancelled ('o3 admin om cancelprepare') "
        + "or upgrade/downgrade is done.")
  }

  private static func seconds(_ value: Double) -> String {
    value == value.rounded() ? "\(Int(value))" : "\(value)"
  }
}
