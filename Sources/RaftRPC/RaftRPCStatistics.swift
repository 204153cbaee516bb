import Raft
import RaftCore
import Synchronization

/// Why messages to a peer were dropped. Raft repeats whatever matters, so a drop costs time, not
/// safety; every drop is still counted and logged.
public enum RaftRPCDropReason: String, Sendable, Hashable, CaseIterable {
  /// No connection could be made: queued messages were dropped when the attempt failed, and
  /// new ones are dropped while the transport waits to try again.
  case peerUnreachable
  /// The connection closed with the batch sent but unanswered (it may or may not have arrived).
  case connectionLost
  /// The batch's reply did not come within `RaftRPCLimits.callTimeout`.
  case timedOut
  /// The peer answered the batch with an error (for example `RAFT_WRONG_PEER`).
  case refusedByPeer
  /// The peer's queue held `RaftRPCLimits.queuedBytesPerPeerMax` bytes already.
  case queueFull
  /// The peer's address is unknown or could not be parsed.
  case noAddress
  /// A message, or a single entry of an AppendEntries, exceeds `RaftRPCLimits.batchBytesMax`;
  /// entries after a refused one are refused with it (they would not follow anything).
  case messageTooLarge
  /// The peer was removed, the transport shut down, or the group that sent it shut down.
  case peerRemoved
}

/// Counters of one peer (one remote process, whatever groups it shares with this one) since the
/// transport started. Messages and bytes are counted per batch; bytes are "raft.messages" payload
/// bytes.
public struct RaftRPCPeerStatistics: Sendable, Equatable {
  /// Messages handed to the connection (an AppendEntries split in three counts three).
  public var messagesSent = 0
  public var bytesSent = 0
  /// "raft.messages" calls made; each carries one batch.
  public var callsSent = 0
  /// Calls answered successfully by the peer.
  public var callsAcknowledged = 0
  /// The most calls that were unanswered at once: the pipelining depth reached.
  public var outstandingCallsPeak = 0
  /// Messages from the peer handed to the group they were for.
  public var messagesReceived = 0
  public var bytesReceived = 0
  public var callsReceived = 0
  /// Messages from the peer for a group this process does not host, or has not started yet
  /// (a pipeline the peer created before this datanode did): dropped without an error reply,
  /// since an error would make the peer drop the whole call and report this process unreachable
  /// to every group it shares with it.
  public var messagesForUnknownGroup = 0
  /// Messages from the peer for a hosted group that does not list it as a member: dropped.
  public var messagesFromNonMember = 0
  /// Messages dropped, by reason; a reason that never happened is absent.
  public var messagesDropped: [RaftRPCDropReason: Int] = [:]
  /// AppendEntries split because they exceeded the batch limit.
  public var appendsSplit = 0
  /// Connections established (the first one included).
  public var connectionsEstablished = 0
  /// Connection attempts that failed.
  public var connectFailures = 0
  /// Failure episodes reported for this peer: each called `onUnreachable` once in every
  /// started group that lists the peer or sent to it.
  public var unreachableReports = 0

  public init() {}

  /// Connections established after the first: how often the peer had to be reconnected.
  public var reconnects: Int { max(0, connectionsEstablished - 1) }

  /// Messages dropped for any reason.
  public var messagesDroppedTotal: Int { messagesDropped.values.reduce(0, +) }
}

/// Counters of one group on an endpoint, since the group was registered; they go when the group
/// is shut down (so a datanode that creates and closes pipelines for months keeps no trace of
/// old ones).
public struct RaftRPCGroupStatistics: Sendable, Equatable {
  /// Messages the group handed to the transport (each then sent or dropped, which the peer's
  /// counters tell: a call may carry several groups' messages).
  public var messagesSubmitted = 0
  /// Messages delivered to the group.
  public var messagesReceived = 0
  /// Times the group's `onUnreachable` was called.
  public var unreachableReports = 0

  public init() {}
}

/// Counters of one transport since it started.
public struct RaftRPCStatistics: Sendable, Equatable {
  /// Per peer, for every peer messages were sent to or received from.
  public var peers: [PeerID: RaftRPCPeerStatistics] = [:]
  /// Per hosted group.
  public var groups: [RaftGroupID: RaftRPCGroupStatistics] = [:]
  /// Inbound batches refused because they did not decode (answered with an error).
  public var batchesRefusedAsMalformed = 0
  /// Inbound batches refused because a message in them was addressed to another peer.
  public var batchesRefusedAsMisaddressed = 0
  /// Inbound batches refused because their sender is not a member of any group hosted here.
  public var batchesRefusedFromUnknownPeers = 0

  public init() {}

  /// The counters of `peer`, zero when nothing was exchanged with it.
  public subscript(peer: PeerID) -> RaftRPCPeerStatistics {
    peers[peer] ?? RaftRPCPeerStatistics()
  }

  /// The counters of `group`, zero when it is not hosted.
  public subscript(group group: RaftGroupID) -> RaftRPCGroupStatistics {
    groups[group] ?? RaftRPCGroupStatistics()
  }

  /// Messages dropped for `reason`, over every peer.
  public func messagesDropped(_ reason: RaftRPCDropReason) -> Int {
    peers.values.reduce(0) { $0 + ($1.messagesDropped[reason] ?? 0) }
  }
}

/// The live counters behind ``RaftRPCStatistics``. Updated once per batch or connection event
/// (never per message), so one lock is cheaper than a set of atomics per peer.
final class TransportCounters: Sendable {
  private let state = Mutex(RaftRPCStatistics())

  /// Applies `update` to the counters of `peer`.
  func update(_ peer: PeerID, _ update: (inout RaftRPCPeerStatistics) -> Void) {
    state.withLock { update(&$0.peers[peer, default: RaftRPCPeerStatistics()]) }
  }

  func recordDrop(_ peer: PeerID, messages: Int, reason: RaftRPCDropReason) {
    update(peer) { $0.messagesDropped[reason, default: 0] += messages }
  }

  func recordMalformedBatch() {
    state.withLock { $0.batchesRefusedAsMalformed += 1 }
  }

  func recordMisaddressedBatch() {
    state.withLock { $0.batchesRefusedAsMisaddressed += 1 }
  }

  func recordUnknownPeerBatch() {
    state.withLock { $0.batchesRefusedFromUnknownPeers += 1 }
  }

  var snapshot: RaftRPCStatistics {
    state.withLock { $0 }
  }
}
