import NIOCore
import NIOPosix
import O3Common

/// Every OM of a service with the role it reports, asked of all of them at once
/// (`o3 admin om roles`, and `o3 local` waiting for a leader).
public struct OMServiceRoles: Sendable {
  /// One configured OM and what it answered.
  public struct Entry: Sendable {
    public var node: OMNodeDetails
    /// Its answer; nil when it could not be asked (see `error`).
    public var status: OMNodeStatus?
    public var error: OMAdminError?
  }

  public var serviceID: String?
  /// In the configuration's node order.
  public var entries: [Entry]

  /// The reachable OM that says it leads in the highest term (an old leader cut off from the
  /// others may still believe it leads in an older one).
  public var leader: Entry? {
    entries.filter { $0.status?.role == .leader }.max { $0.status!.term < $1.status!.term }
  }

  /// How many entries `nodeID` is behind the leader, from the leader's own progress report.
  public func lag(of nodeID: String) -> UInt64? {
    leader?.status?.peer(nodeID)?.lag
  }

  /// Asks every node of `service` in parallel; each gets at most `timeout`.
  public static func collect(
    _ service: OMServiceConfiguration, timeout: Duration = .seconds(5),
    group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
  ) async -> OMServiceRoles {
    let answers = await withTaskGroup(of: (Int, Result<OMNodeStatus, OMAdminError>).self) { tasks in
      for (position, node) in service.nodes.enumerated() {
        tasks.addTask {
          do throws(OMAdminError) {
            return (position, .success(try await OMAdminClient.roles(at: node.clientAddress, timeout: timeout, group: group)))
          } catch {
            return (position, .failure(error))
          }
        }
      }
      var answers: [Int: Result<OMNodeStatus, OMAdminError>] = [:]
      for await (position, answer) in tasks { answers[position] = answer }
      return answers
    }
    let entries = service.nodes.enumerated().map { position, node in
      switch answers[position]! {
      case .success(let status): Entry(node: node, status: status, error: nil)
      case .failure(let error): Entry(node: node, status: nil, error: error)
      }
    }
    return OMServiceRoles(serviceID: service.serviceID, entries: entries)
  }
}
