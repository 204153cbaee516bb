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
  /// The members, in the configuration's node order, then members it does not list.
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

  /// Asks every node of `service` in turn (each gets at most `timeout`), then follows the
  /// leader's membership: members the configuration does not list are asked at the address the
  /// leader knows for them, and listed nodes that are not members (decommissioned) are left out.
  public static func collect(
    _ service: OMServiceConfiguration, timeout: Duration = .seconds(5),
    group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
  ) async -> OMServiceRoles {
    // One node after the other: a task group here crashed in release builds of Swift 6.3.1
    // (a miscompiled result collection); three short calls in a row cost little.
    var entries: [Entry] = []
    for node in service.nodes {
      entries.append(await ask(node, timeout: timeout, group: group))
    }
    var roles = OMServiceRoles(serviceID: service.serviceID, entries: entries)
    guard let members = roles.leader?.status?.peers, !members.isEmpty else { return roles }
    roles.entries.removeAll { entry in !members.contains { $0.nodeId == entry.node.nodeID } }
    for member in members where !roles.entries.contains(where: { $0.node.nodeID == member.nodeId }) {
      guard let text = member.clientAddress, let address = try? HostAndPort.parse(text, defaultPort: 0) else {
        let nowhere = HostAndPort(host: "unknown", port: 0)
        let unknown = OMNodeDetails(nodeID: member.nodeId, clientAddress: nowhere, raftAddress: nowhere, httpAddress: nowhere)
        let error = OMAdminError(.unreachable, "the leader knows no address for it")
        roles.entries.append(Entry(node: unknown, status: nil, error: error))
        continue
      }
      var entry = await ask(
        OMNodeDetails(nodeID: member.nodeId, clientAddress: address, raftAddress: address, httpAddress: address),
        timeout: timeout, group: group)
      if let status = entry.status, let raft = try? HostAndPort.parse(status.raftAddress, defaultPort: 0),
        let http = try? HostAndPort.parse(status.httpAddress, defaultPort: 0)
      {
        entry.node = OMNodeDetails(nodeID: member.nodeId, clientAddress: address, raftAddress: raft, httpAddress: http)
      }
      roles.entries.append(entry)
    }
    return roles
  }

  private static func ask(_ node: OMNodeDetails, timeout: Duration, group: any EventLoopGroup) async -> Entry {
    do {
      let status = try await OMAdminClient.roles(at: node.clientAddress, timeout: timeout, group: group)
      return Entry(node: node, status: status, error: nil)
    } catch {
      return Entry(node: node, status: nil, error: error)
    }
  }
}
