import ArgumentParser
import OzoneManager

/// `o3 admin om transfer -n <node> | -r`: hands Raft leadership to another OM
/// (Ozone's `ozone admin om transfer`).
struct TransferCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "transfer", abstract: "Make another OM the leader (-n <node id>, or -r for any follower).")

  @OptionGroup var serviceOptions: AdminServiceOptions

  @Option(name: [.customShort("n"), .customLong("new-leader-id"), .customLong("newLeaderId")], help: "The OM to lead next.")
  var newLeaderID: String?

  @Flag(name: [.customShort("r"), .customLong("random")], help: "Let the leader pick its most up-to-date follower.")
  var anyFollower = false

  @Option(name: .long, help: "Seconds to wait for the new leader to take over.")
  var timeoutSeconds: Double = 60

  func validate() throws {
    guard (newLeaderID != nil) != anyFollower else {
      throw ValidationError("give exactly one of -n <node id> and -r")
    }
  }

  func run() async throws {
    let service = try serviceOptions.service()
    if let newLeaderID, !service.nodes.contains(where: { $0.nodeID == newLeaderID }) {
      throw CommandFailure(
        message: "\(newLeaderID) is not a node of the service (\(service.nodes.map(\.nodeID).joined(separator: ",")))",
        exitCode: 2)
    }
    let request = OMTransferRequest(targetNodeId: newLeaderID)
    let timeout = Duration.milliseconds(Int64(timeoutSeconds * 1000))
    let roles = await OMServiceRoles.collect(service)
    guard let leader = roles.leader else {
      throw CommandFailure(message: "NOT_LEADER no OM of the service says it leads; check 'o3 admin om roles' and retry")
    }
    do throws(OMAdminError) {
      let result = try await OMAdminClient.transfer(at: leader.node.clientAddress, request, timeout: timeout)
      if result.leaderId == result.previousLeaderId {
        print("\(result.leaderId) is already the leader (term \(result.term)).")
      } else {
        print("Transferred leadership from \(result.previousLeaderId) to \(result.leaderId) (term \(result.term)).")
      }
    } catch {
      throw CommandFailure(message: error.description)
    }
  }
}
