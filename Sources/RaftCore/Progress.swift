/// A leader's view of one member's log (etcd-raft's design: probe, replicate, snapshot).
///
/// Invariant: `match < next`. In `probe` at most one AppendEntries is unanswered (`probeSent`);
/// in `replicate` the messages in flight are bounded by `inflights`; in `snapshot` nothing is
/// sent until the member reports its checkpoint.
struct Progress {
  private(set) var match: UInt64 = 0
  private(set) var next: UInt64
  private(set) var state: ReplicationState = .probe
  /// In probe: a message was sent and neither answered nor superseded by a heartbeat reply.
  private(set) var probeSent = false
  /// In snapshot: the leader's compaction point when the notice was sent.
  private(set) var pendingSnapshot: UInt64 = 0
  /// In snapshot: ticks since the last notice or sign of life about the install.
  var noticeAgeTicks = 0
  private(set) var inflights: Inflights
  /// Heard from in the current check-quorum period.
  var recentActive = true
  var isLearner: Bool
  /// The highest commit index sent to this member, so that a commit it has not heard of is
  /// sent even when there is no entry to carry it.
  var sentCommit: UInt64 = 0
  /// The newest read-confirmation round this member acknowledged.
  var readRoundAcknowledged: UInt64 = 0

  init(next: UInt64, isLearner: Bool, inflightMessagesMax: Int, inflightBytesMax: Int) {
    self.next = next
    self.isLearner = isLearner
    inflights = Inflights(capacity: inflightMessagesMax, bytesMax: inflightBytesMax)
  }

  /// Whether sending must wait for an answer.
  var isPaused: Bool {
    switch state {
    case .probe: probeSent
    case .replicate: inflights.isFull
    case .snapshot: true
    }
  }

  /// Records an AppendEntries just sent carrying entries through `lastIndex` (nil when empty).
  mutating func sent(lastIndex: UInt64?, payloadBytes: Int) {
    switch state {
    case .replicate:
      guard let lastIndex else { return }
      precondition(lastIndex >= next, "sent entries \(lastIndex) behind next \(next)")
      next = lastIndex + 1
      inflights.add(lastIndex: lastIndex, payloadBytes: payloadBytes)
    case .probe:
      probeSent = true
    case .snapshot:
      preconditionFailure("nothing is sent to a member installing a checkpoint")
    }
  }

  /// A success acknowledgement through `index`; returns whether it told anything new.
  mutating func acknowledged(through index: UInt64) -> Bool {
    let updated = index > match
    if updated {
      match = index
      probeSent = false
    }
    next = max(next, index + 1)
    inflights.free(through: index)
    precondition(match < next, "progress invariant match < next broken")
    return updated
  }

  /// A rejection of the message whose previous entry was `rejected`; `probeHint` is the leader's
  /// best guess of the last matching index. Returns false for a stale rejection.
  mutating func rejected(_ rejected: UInt64, probeHint: UInt64) -> Bool {
    switch state {
    case .replicate:
      // A rejection at or below match answers a message sent before the match was known.
      guard rejected > match else { return false }
      becomeProbe()
    case .probe:
      // Only the answer to the probe in flight moves `next`; older answers are stale.
      guard rejected == next - 1 else { return false }
      next = max(min(rejected, probeHint + 1), match + 1)
      probeSent = false
      precondition(match < next, "progress invariant match < next broken")
    case .snapshot:
      // Nothing was sent since the notice: any rejection is stale.
      return false
    }
    return true
  }

  mutating func becomeProbe() {
    // From snapshot this is a failed install: probe from the match, a new notice follows.
    next = match + 1
    pendingSnapshot = 0
    state = .probe
    probeSent = false
    inflights.reset()
  }

  mutating func becomeReplicate() {
    state = .replicate
    next = match + 1
    probeSent = false
    inflights.reset()
  }

  mutating func becomeSnapshot(leaderSnapshot: UInt64) {
    state = .snapshot
    pendingSnapshot = leaderSnapshot
    noticeAgeTicks = 0
    probeSent = false
    inflights.reset()
  }

  /// The member installed a checkpoint through `index`: its log matches through there.
  mutating func installed(through index: UInt64) {
    match = max(match, index)
    pendingSnapshot = 0
    state = .probe
    next = match + 1
    probeSent = false
    inflights.reset()
  }

  /// After a heartbeat answer: neither a lost probe nor a full window of lost messages may
  /// stall the member forever (a transport that drops messages silently never reports it
  /// unreachable), so one more message may go out.
  mutating func heartbeatAnswered() {
    probeSent = false
    if state == .replicate && inflights.isFull { inflights.freeOldest() }
  }
}
