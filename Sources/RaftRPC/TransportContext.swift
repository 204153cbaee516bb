import Logging
import RaftCore
import Synchronization

/// What every part of one transport shares: identity, limits, logger, counters, the peers it
/// has addresses for and the `onUnreachable` handler given to `start`.
final class TransportContext: Sendable {
  let localPeer: PeerID
  let limits: RaftRPCLimits
  let logger: Logger
  let counters = TransportCounters()
  private let unreachableHandler = Mutex<(@Sendable (PeerID) -> Void)?>(nil)
  /// The peers given to `setAddress` and not removed since: the only senders accepted.
  private let addressBook = Mutex<Set<PeerID>>([])

  init(localPeer: PeerID, limits: RaftRPCLimits, logger: Logger) {
    self.localPeer = localPeer
    self.limits = limits
    self.logger = logger
  }

  func setUnreachableHandler(_ handler: @escaping @Sendable (PeerID) -> Void) {
    unreachableHandler.withLock { $0 = handler }
  }

  func learn(_ peer: PeerID) {
    _ = addressBook.withLock { $0.insert(peer) }
  }

  func forget(_ peer: PeerID) {
    _ = addressBook.withLock { $0.remove(peer) }
  }

  /// Whether `peer` is in the address book.
  func knows(_ peer: PeerID) -> Bool {
    addressBook.withLock { $0.contains(peer) }
  }

  /// Tells the Raft runtime that messages to `peer` are being lost.
  func reportUnreachable(_ peer: PeerID) {
    counters.update(peer) { $0.unreachableReports += 1 }
    let handler = unreachableHandler.withLock { $0 }
    handler?(peer)
  }
}
