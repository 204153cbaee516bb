import Logging
import RaftCore
import Synchronization

/// What every part of one transport shares: identity, limits, logger, counters and the
/// `onUnreachable` handler given to `start`.
final class TransportContext: Sendable {
  let localPeer: PeerID
  let limits: RaftRPCLimits
  let logger: Logger
  let counters = TransportCounters()
  private let unreachableHandler = Mutex<(@Sendable (PeerID) -> Void)?>(nil)

  init(localPeer: PeerID, limits: RaftRPCLimits, logger: Logger) {
    self.localPeer = localPeer
    self.limits = limits
    self.logger = logger
  }

  func setUnreachableHandler(_ handler: @escaping @Sendable (PeerID) -> Void) {
    unreachableHandler.withLock { $0 = handler }
  }

  /// Tells the Raft runtime that messages to `peer` are being lost.
  func reportUnreachable(_ peer: PeerID) {
    counters.update(peer) { $0.unreachableReports += 1 }
    let handler = unreachableHandler.withLock { $0 }
    handler?(peer)
  }
}
