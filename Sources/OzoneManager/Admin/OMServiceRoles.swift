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

  /// Asks every node of `service` in turn; each gets at most `timeout`.
  public static func collect(
    _ service: OMServiceConfiguration, timeout: Duration = .seconds(5),
    group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
  ) async -> OMServiceRoles {
    // One node after the other: a task group here crashed in release builds of Swift 6.3.1
    // (a miscompiled result collection); three short calls in a row cost little.
    var entries: [Entry] = []
    for node in service.nodes {
      do {
        let status = try await OMAdminClient.roles(at: node.clientAddress, timeout: timeout, group: group)
        entries.append(Entry(node: node, status: status, error: nil))
      } catch {
        entries.append(Entry(node: node, status: nil, error: error))
      }
    }
    return OMServiceRoles(serviceID: service.serviceID, entries: entries)
  }
}
