import ArgumentParser
import Foundation
import O3Common
import OzoneManager

/// `o3 admin om decommission --nodeid <id>`: removes an OM from the service's Raft group
/// (Ozone's `ozone admin om decommission`).
///
/// The leader refuses when fewer live voters than a majority of the smaller group would remain
/// (`--force` removes anyway), and never removes itself: asked to, it hands leadership to a
/// follower first and this command asks the new leader. Stop the removed OM afterwards; it no
/// longer receives the log, and must not rejoin with wiped storage under the same node id.
struct DecommissionCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "decommission", abstract: "Remove an OM from the service's Raft group, then stop it.")

  @OptionGroup var serviceOptions: AdminServiceOptions

  @Option(name: [.customLong("nodeid"), .customLong("nodeid", withSingleDash: true)], help: "The OM to remove.")
  var nodeID: String

  @Option(
    name: [.customLong("node-host-address"), .customLong("hostname", withSingleDash: true)],
    help: "Its host, checked against the configuration (optional; Ozone requires it).")
  var hostAddress: String?

  @Flag(name: .long, help: "Remove it even when fewer live voters than a majority would remain (writes stop until they return).")
  var force = false

  @Option(name: .long, help: "Seconds to wait for the removal to commit.")
  var timeoutSeconds: Double = 60

  /// Leader changes to follow (a leader asked to remove itself hands over first).
  static let attemptsMax = 5

  func run() async throws {
    let service = try serviceOptions.service()
    if let hostAddress, let node = service.node(withID: nodeID), node.clientAddress.host != hostAddress {
      throw CommandFailure(
        message: "\(nodeID)'s host in the configuration is \(node.clientAddress.host), not \(hostAddress)", exitCode: 2)
    }
    let request = OMDecommissionRequest(nodeId: nodeID, force: force)
    var lastError: OMAdminError?
    for attempt in 0..<Self.attemptsMax {
      if attempt > 0 { try await Task.sleep(for: .milliseconds(500)) }
      let roles = await OMServiceRoles.collect(service)
      guard let leader = roles.leader else {
        lastError = OMAdminError(.notLeader, "no OM of the service says it leads")
        continue
      }
      do throws(OMAdminError) {
        let result = try await OMAdminClient.decommission(
          at: leader.node.clientAddress, request, timeout: .milliseconds(Int64(timeoutSeconds * 1000)))
        print(
          "Decommissioned OM \(result.nodeId): voters are now \(result.voters.joined(separator: ","))"
            + (result.learners.isEmpty ? "" : ", learners \(result.learners.joined(separator: ","))")
            + " (leader \(result.leaderId), term \(result.term)). Stop the OM \(result.nodeId) now.")
        return
      } catch {
        lastError = error
        guard [.notLeader, .leaderHandedOver, .membershipChangeRefused].contains(error.code) else { break }
        if error.code == .leaderHandedOver { print(error.message) }
      }
    }
    throw CommandFailure(message: "Failed to decommission OM \(nodeID): \(lastError?.description ?? "no leader")")
  }
}
