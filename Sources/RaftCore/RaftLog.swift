/// The log as the core sees it: durable entries in storage followed by the unstable tail, with
/// the commit and applied indexes.
///
/// Invariants: `snapshotIndex <= applied <= committed <= lastIndex` (after a restart, applied may
/// briefly trail the compaction point only if the application says so; it never exceeds commit).
struct RaftLog<Storage: RaftStorage> {
  let storage: Storage
  var unstable: UnstableLog
  /// The highest index known to be committed.
  private(set) var committed: UInt64
  /// The highest index the application has applied.
  private(set) var applied: UInt64

  init(storage: Storage, appliedIndex: UInt64) {
    self.storage = storage
    unstable = UnstableLog(offset: storage.lastIndex + 1)
    committed = storage.hardState.commit
    let snapshotIndex = storage.snapshot.last.index
    precondition(committed >= snapshotIndex, "commit \(committed) below compaction \(snapshotIndex)")
    precondition(committed <= storage.lastIndex, "commit \(committed) past the log end")
    applied = max(appliedIndex, snapshotIndex)
    precondition(applied <= committed, "applied \(applied) past commit \(committed)")
  }

  /// The compaction point in force (a pending one first).
  var snapshot: SnapshotMetadata { unstable.snapshot ?? storage.snapshot }
  var firstIndex: UInt64 { snapshot.last.index + 1 }
  var lastIndex: UInt64 { unstable.lastIndex ?? storage.lastIndex }
  var lastTermIndex: TermIndex { TermIndex(term: term(at: lastIndex)!, index: lastIndex) }

  /// The last index that is durable and agrees with this log.
  var persistedLastIndex: UInt64 {
    if unstable.snapshot != nil { return unstable.offset - 1 }
    return min(storage.lastIndex, unstable.offset - 1)
  }

  /// The term at `index`, or nil when it is compacted away or past the end.
  func term(at index: UInt64) -> UInt64? {
    if let term = unstable.term(at: index) { return term }
    // Below the tail, storage answers, unless a pending compaction point replaced it all.
    guard unstable.snapshot == nil, index < unstable.offset else { return nil }
    do {
      return try storage.term(at: index)
    } catch {
      return nil
    }
  }

  func matches(_ position: TermIndex) -> Bool {
    term(at: position.index) == position.term
  }

  /// Whether a log ending at `candidateLast` is at least as up-to-date as this one (Raft paper
  /// §5.4.1: compare the last terms, then the lengths).
  func isUpToDate(_ candidateLast: TermIndex) -> Bool {
    candidateLast >= lastTermIndex
  }

  /// Entries from `start` through the end, limited by payload bytes; nil when `start` is
  /// compacted away.
  func entries(from start: UInt64, payloadBytesMax: Int) -> [LogEntry]? {
    guard start >= firstIndex else { return nil }
    guard start <= lastIndex else { return [] }
    return entries(in: start..<(lastIndex + 1), payloadBytesMax: payloadBytesMax)
  }

  /// Entries in `range`, which lies within `firstIndex ... lastIndex`.
  func entries(in range: Range<UInt64>, payloadBytesMax: Int) -> [LogEntry] {
    precondition(range.lowerBound >= firstIndex && range.upperBound <= lastIndex + 1)
    var result: [LogEntry] = []
    let storageEnd = min(range.upperBound, unstable.offset)
    if range.lowerBound < storageEnd {
      do {
        result = try storage.entries(
          in: range.lowerBound..<storageEnd, payloadBytesMax: payloadBytesMax)
      } catch {
        preconditionFailure("storage lost entries \(range) it claims to hold: \(error)")
      }
      if result.count < Int(storageEnd - range.lowerBound) { return result }
    }
    let unstableStart = max(range.lowerBound, unstable.offset)
    guard unstableStart < range.upperBound else { return result }
    let used = result.reduce(0) { $0 + $1.payloadBytes }
    let tail = limitedByPayload(
      unstable.slice(unstableStart..<range.upperBound), max(payloadBytesMax - used, 0))
    if !result.isEmpty, used + (tail.first?.payloadBytes ?? 0) > payloadBytesMax { return result }
    return result + tail
  }

  /// The last position at or before `index` whose term is at most `term`: where a log whose
  /// entry at `index` has that term may still agree with this one. Stops at the compaction
  /// point, whose entry is committed and therefore shared; below it the term is unknown (0).
  func lastPosition(atOrBefore index: UInt64, withTermAtMost term: UInt64) -> TermIndex {
    var candidate = min(index, lastIndex)
    if candidate < snapshot.last.index { return TermIndex(term: 0, index: candidate) }
    while candidate > snapshot.last.index {
      let candidateTerm = self.term(at: candidate)!
      if candidateTerm <= term { return TermIndex(term: candidateTerm, index: candidate) }
      candidate -= 1
    }
    return TermIndex(term: snapshot.last.term, index: snapshot.last.index)
  }

  /// Appends `newEntries` after `previous` when the log holds `previous` (Raft paper §5.3):
  /// entries already held are kept, the first conflicting one and everything after it are
  /// replaced. Returns the index of the first entry written (nil when nothing changed) and the
  /// last index now known to match, or nil when `previous` does not match.
  mutating func appendAfter(_ previous: TermIndex, _ newEntries: [LogEntry])
    -> (firstWritten: UInt64?, lastMatching: UInt64)?
  {
    guard matches(previous) else { return nil }
    let lastMatching = previous.index + UInt64(newEntries.count)
    guard let conflict = newEntries.first(where: { !matches($0.termIndex) }) else {
      return (nil, lastMatching)
    }
    precondition(
      conflict.index > committed,
      "entry \(conflict.index) conflicts with the committed log (commit \(committed))")
    append(Array(newEntries[Int(conflict.index - newEntries[0].index)...]))
    return (conflict.index, lastMatching)
  }

  /// Writes `newEntries` (contiguous, starting at most one past the end) to the unstable tail.
  mutating func append(_ newEntries: [LogEntry]) {
    guard let first = newEntries.first else { return }
    precondition(first.index > committed, "append \(first.index) rewrites committed log")
    precondition(first.index <= lastIndex + 1, "append \(first.index) leaves a gap")
    unstable.truncateAndAppend(newEntries)
  }

  mutating func commit(to index: UInt64) {
    guard index > committed else { return }
    precondition(index <= lastIndex, "commit \(index) past the last index \(lastIndex)")
    committed = index
  }

  /// Committed entries that are durable and not yet handed out, limited by payload bytes.
  func committedEntriesToApply(payloadBytesMax: Int) -> [LogEntry] {
    let end = min(committed, persistedLastIndex)
    guard end > applied else { return [] }
    return entries(in: (applied + 1)..<(end + 1), payloadBytesMax: payloadBytesMax)
  }

  mutating func applied(through index: UInt64) {
    precondition(index >= applied && index <= committed, "applied \(index) out of order")
    applied = index
  }

  /// Moves to a state machine checkpoint at `metadata`: the log is empty after it.
  mutating func restore(_ metadata: SnapshotMetadata) {
    precondition(metadata.last.index > committed, "restore behind commit")
    unstable.restore(metadata)
    committed = metadata.last.index
    applied = metadata.last.index
  }

  /// The state machine jumped to a checkpoint at `position`, which this log holds or has
  /// already committed: keep the log, move commit and applied ahead.
  mutating func fastForward(to position: TermIndex) {
    if position.index > committed {
      precondition(matches(position), "fast-forward to a position the log does not hold")
      committed = position.index
    }
    applied = max(applied, position.index)
  }
}

extension RaftLog: Sendable where Storage: Sendable {}
