import Foundation
import NIOCore
import OMProto
import Synchronization

/// Answers a retried write with the answer of its first attempt, keyed like Ratis' RetryCache
/// by the client id and call id the client keeps across retries.
///
/// Every replica records the answer of each write it applies, so a retry that reaches a new
/// leader after a failover is answered too (Ozone's cache lives only on the server that took the
/// first attempt). The leader also remembers writes it has proposed but not yet applied: a retry
/// arriving meanwhile waits for the same answer instead of proposing the write again. Answers
/// expire after `ozone.om.ha.raft.server.retrycache.expirytime` (default 300 s). The cache only
/// decides whether to propose; apply never consults it, so replicas cannot diverge through it.
///
/// What it cannot cover: a proposal that timed out and is still uncommitted when its retry
/// arrives is proposed again.
///
/// Installing a leader's checkpoint leaves the cache as it is, as Ratis does (its retry cache
/// lives in memory and is not part of a snapshot). That is consistent: every answer here was
/// recorded by apply, apply sees only committed entries, the install is refused unless the
/// checkpoint is newer than everything applied here, and a committed entry is in every later
/// checkpoint; so each cached answer still describes a write the installed database holds.
/// Clearing the cache instead would make a retry of such a write run a second time. The
/// entries between the old position and the checkpoint were never applied here, so this replica
/// has no answer for them: a retry of one is proposed again and answered by what it does now
/// (Ozone has the same gap, and worse, its cache lives only on the leader that took the first
/// attempt). A write admitted here as leader and still in flight keeps waiting for its
/// proposal, which ends, applied or timed out, through `recordApplied` or `finishProposal`.
final class RetryCache: Sendable {
  struct Key: Hashable, Sendable {
    var clientID: String
    var callID: UInt64
  }

  private enum Entry {
    case inFlight(waiters: [@Sendable (OMResponse) -> Void])
    /// The answer serialized: a decoded `OMResponse` keeps one storage object sized for every
    /// response type (about 300 heap bytes, even for an empty CommitKey answer), its bytes 48 to
    /// 112 for a key write; at `entriesMax` answers on every replica that saved 220 MB per OM.
    case done(answer: [UInt8], recorded: Date)
  }

  /// What the caller should do with a write.
  enum Admission {
    /// Not seen: propose it, then call `finishProposal`.
    case propose
    /// Seen: the answer was, or will be, given to `respond`.
    case answered
  }

  /// The entries, and the answers in the order they were recorded (oldest first), so that
  /// expiry and the bound cost O(1) per write instead of a scan of the whole cache.
  private struct State {
    var entries: [Key: Entry] = [:]
    var recorded: [(key: Key, at: Date)] = []
    /// Where the live part of `recorded` starts; the consumed prefix is dropped in bulk.
    var recordedStart = 0
    /// One copy of each recent client's id, for all of that client's keys: a decoded request
    /// brings its own copy (80 heap bytes for a 36-character UUID), and a few clients' answers
    /// fill the cache. Forgotten when full (keys keep the copy they hold).
    var clientIDs: [String: String] = [:]

    /// `key` holding the shared copy of its client id (this one becomes it when there is none).
    mutating func sharing(_ key: Key) -> Key {
      if let clientID = clientIDs[key.clientID] { return Key(clientID: clientID, callID: key.callID) }
      if clientIDs.count >= RetryCache.clientIDsMax { clientIDs.removeAll(keepingCapacity: true) }
      clientIDs[key.clientID] = key.clientID
      return key
    }
  }

  /// The bound on shared client ids.
  static let clientIDsMax = 1024

  private let state = Mutex(State())
  private let expirySeconds: Double
  /// Bounds memory when clients write faster than answers expire: past it the oldest answers
  /// go before their time (a retry of one of those is proposed again).
  private let entriesMax: Int

  init(expirySeconds: Double = 300, entriesMax: Int = 1_000_000) {
    self.expirySeconds = expirySeconds
    self.entriesMax = entriesMax
  }

  /// Registers a write about to be proposed on the leader; a repeat gets the first answer.
  func admit(_ key: Key, now: Date = Date(), respond: @escaping @Sendable (OMResponse) -> Void) -> Admission {
    let (admission, cached): (Admission, [UInt8]?) = state.withLock { state in
      switch state.entries[key] {
      case .done(let answer, let recorded)? where now.timeIntervalSince(recorded) < expirySeconds:
        return (.answered, answer)
      case .inFlight(let waiters)?:
        state.entries[key] = .inFlight(waiters: waiters + [respond])
        return (.answered, nil)
      default:
        state.entries[state.sharing(key)] = .inFlight(waiters: [])
        dropOld(&state, now: now)
        return (.propose, nil)
      }
    }
    // The bytes were serialized from an OMResponse by `recordApplied`: they always decode.
    if let cached { respond(try! OMResponse(serializedBytes: cached)) }
    return admission
  }

  /// Called by apply on every replica with the serialized response of a logged write.
  func recordApplied(_ key: Key, answer: [UInt8], now: Date = Date()) {
    let waiters = state.withLock { state in
      let waiting: [@Sendable (OMResponse) -> Void]
      if case .inFlight(let list)? = state.entries[key] { waiting = list } else { waiting = [] }
      let shared = state.sharing(key)
      state.entries[shared] = .done(answer: answer, recorded: now)
      state.recorded.append((shared, now))
      dropOld(&state, now: now)
      return waiting
    }
    guard !waiters.isEmpty else { return }
    // The state machine serialized these bytes from an OMResponse: they always decode.
    let response = try! OMResponse(serializedBytes: answer)
    for waiter in waiters { waiter(response) }
  }

  /// The proposal of an admitted write ended without being applied here (refused, timed out):
  /// retries waiting get `response`, and the next retry may propose again.
  func finishProposal(_ key: Key, failedWith response: OMResponse) {
    let waiters = state.withLock { state in
      guard case .inFlight(let waiting)? = state.entries[key] else { return [@Sendable (OMResponse) -> Void]() }
      state.entries[key] = nil
      return waiting
    }
    for waiter in waiters { waiter(response) }
  }

  var count: Int { state.withLock { $0.entries.count } }

  /// Drops the answers that have expired by `now`. Writes drop them as they come; an OM that
  /// receives none calls this on a timer (``sweepInterval``), so that it frees them too.
  func expire(now: Date = Date()) {
    state.withLock { dropOld(&$0, now: now) }
  }

  /// How often an OM sweeps its cache for expired answers.
  static let sweepInterval = TimeAmount.seconds(30)

  /// Drops answers from the oldest while they have expired or the cache is over its bound. A
  /// queue record whose key was answered again later (or removed) no longer matches the entry
  /// and is skipped. In-flight writes are never dropped: their proposals still end through here.
  private func dropOld(_ state: inout State, now: Date) {
    while state.recordedStart < state.recorded.count {
      let oldest = state.recorded[state.recordedStart]
      let overBound = state.entries.count > entriesMax
      guard overBound || now.timeIntervalSince(oldest.at) >= expirySeconds else { break }
      if case .done(_, let recorded)? = state.entries[oldest.key], recorded == oldest.at {
        state.entries[oldest.key] = nil
      }
      state.recordedStart += 1
    }
    // Compact the consumed prefix once it is at least half the queue: amortised O(1).
    if state.recordedStart > 1024 && state.recordedStart * 2 >= state.recorded.count {
      state.recorded.removeFirst(state.recordedStart)
      state.recordedStart = 0
    }
  }
}
