import NIOCore
import NIOPosix
import Synchronization

/// One directed link of a ``ProxyMesh``: who connects (`from`), to whom (`to`), for what.
public struct LinkID: Hashable, Sendable, Comparable, CustomStringConvertible {
  public var from: String
  public var to: String
  /// What the link carries, for example `raft`, `http` or `client`.
  public var purpose: String

  public init(from: String, to: String, purpose: String) {
    self.from = from
    self.to = to
    self.purpose = purpose
  }

  public var description: String { "\(from)→\(to) \(purpose)" }

  public static func < (left: LinkID, right: LinkID) -> Bool {
    (left.from, left.to, left.purpose) < (right.from, right.to, right.purpose)
  }
}

/// Every proxied link of a test, by ``LinkID``, with the group operations fault schedules use:
/// partitions into groups, one-way blocks, and healing, all as ``LinkMode`` changes.
///
/// The mesh knows names, not what they are: a test decides which purposes a partition cuts
/// (peer links only, or client links too).
public final class ProxyMesh: Sendable {
  private let links = Mutex<[LinkID: LinkProxy]>([:])
  private let group: any EventLoopGroup

  public init(group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
    self.group = group
  }

  /// Starts a proxy for `link` in front of `targetPort`; returns the port to dial instead.
  public func add(_ link: LinkID, targetPort: Int, seed: UInt64) async throws -> Int {
    let proxy = LinkProxy(name: link.description, targetPort: targetPort, seed: seed, group: group)
    let port = try await proxy.start()
    links.withLock { $0[link] = proxy }
    return port
  }

  public func proxy(_ link: LinkID) -> LinkProxy? { links.withLock { $0[link] } }

  /// Every link, sorted.
  public var linkIDs: [LinkID] { links.withLock { $0.keys.sorted() } }

  /// Sets `mode` on every link `matching` selects.
  public func setMode(_ mode: LinkMode, matching: (LinkID) -> Bool) {
    for (id, proxy) in links.withLock({ $0 }) where matching(id) { proxy.setMode(mode) }
  }

  /// Blackholes (or sets `mode` on) every link of the given purposes whose two ends are in
  /// different groups; names in no group are left alone.
  public func partition(_ groups: [Set<String>], purposes: Set<String>, mode: LinkMode = .blackhole) {
    func groupIndex(_ name: String) -> Int? { groups.firstIndex { $0.contains(name) } }
    setMode(mode) { link in
      guard purposes.contains(link.purpose), let from = groupIndex(link.from), let to = groupIndex(link.to) else {
        return false
      }
      return from != to
    }
  }

  /// Blocks what `senders` send to `receivers` (links of the given purposes), leaving the
  /// other direction as it is.
  public func block(from senders: Set<String>, to receivers: Set<String>, purposes: Set<String>, mode: LinkMode = .blackhole) {
    setMode(mode) { purposes.contains($0.purpose) && senders.contains($0.from) && receivers.contains($0.to) }
  }

  /// Closes the live connections of the links `matching` selects, once.
  public func cutConnections(matching: (LinkID) -> Bool) {
    for (id, proxy) in links.withLock({ $0 }) where matching(id) { proxy.cutConnections() }
  }

  /// Opens every link.
  public func healAll() {
    setMode(.open) { _ in true }
  }

  /// The links whose mode is not `open`, for reports.
  public var faultyLinks: [(LinkID, LinkMode)] {
    links.withLock { links in links.filter { $0.value.mode != .open }.map { ($0.key, $0.value.mode) } }.sorted { $0.0 < $1.0 }
  }

  /// The sum of every link's counters.
  public var totals: LinkProxy.Counters {
    links.withLock { links in
      links.values.reduce(into: LinkProxy.Counters()) { total, proxy in
        let counters = proxy.counters
        total.connectionsAccepted += counters.connectionsAccepted
        total.connectionsKilled += counters.connectionsKilled
        total.bytesForwarded += counters.bytesForwarded
        total.bytesDiscarded += counters.bytesDiscarded
      }
    }
  }

  /// Stops every proxy.
  public func stop() async {
    for proxy in links.withLock({ Array($0.values) }) { await proxy.stop() }
  }
}
