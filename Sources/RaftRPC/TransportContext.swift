import Logging
import RaftCore
import Synchronization

/// What every part of one endpoint shares: identity, limits, logger, counters and the registry of
/// hosted groups (``GroupRegistry``).
///
/// Lock order: the endpoint's own state lock may be held while the registry's is taken, never
/// the other way round; the registry's lock is never held while a handler runs.
final class TransportContext: Sendable {
  let localPeer: PeerID
  let limits: RaftRPCLimits
  let logger: Logger
  let counters = TransportCounters()
  private let registry = Mutex(GroupRegistry())

  init(localPeer: PeerID, limits: RaftRPCLimits, logger: Logger) {
    self.localPeer = localPeer
    self.limits = limits
    self.logger = logger
  }

  /// Runs `body` on the registry under its lock.
  func withRegistry<Result>(_ body: (inout GroupRegistry) -> Result) -> Result {
    registry.withLock { body(&$0) }
  }

  /// Tells every started group that lists `peer` or sent to it that messages to it are being lost: one
  /// failure episode of the peer's link (the link is shared by all of them) is one report to
  /// each.
  func reportUnreachable(_ peer: PeerID) {
    counters.update(peer) { $0.unreachableReports += 1 }
    let handlers = withRegistry { $0.unreachable(peer) }
    for handler in handlers {
      handler(peer)
    }
  }

  /// The counters, the groups' included.
  var statistics: RaftRPCStatistics {
    var statistics = counters.snapshot
    statistics.groups = withRegistry { $0.statistics }
    return statistics
  }
}
