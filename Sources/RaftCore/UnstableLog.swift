/// The tail of the log that is not yet durable: entries waiting to be persisted and, after a
/// checkpoint install, the new compaction point waiting to be persisted.
///
/// Invariant: `entries` are contiguous from `offset`; when `snapshot` is set,
/// `offset == snapshot.last.index + 1`.
struct UnstableLog {
  var snapshot: SnapshotMetadata?
  private(set) var entries: [LogEntry] = []
  /// The index of `entries.first`, or where the next entry would go.
  private(set) var offset: UInt64

  init(offset: UInt64) {
    self.offset = offset
  }

  /// The last index held here, if any entry or pending compaction point is held.
  var lastIndex: UInt64? {
    if let last = entries.last { return last.index }
    return snapshot?.last.index
  }

  /// The term at `index` if this tail knows it.
  func term(at index: UInt64) -> UInt64? {
    if let snapshot, index == snapshot.last.index { return snapshot.last.term }
    guard index >= offset, index < offset + UInt64(entries.count) else { return nil }
    return entries[Int(index - offset)].term
  }

  /// The held entries in `range`, which must lie within `offset ..< offset + count`.
  func slice(_ range: Range<UInt64>) -> ArraySlice<LogEntry> {
    precondition(range.lowerBound >= offset, "unstable slice starts before \(offset)")
    precondition(range.upperBound <= offset + UInt64(entries.count), "unstable slice too long")
    return entries[Int(range.lowerBound - offset)..<Int(range.upperBound - offset)]
  }

  /// Appends `newEntries`, replacing any held entry at or after the first new index. When the
  /// new entries start before `offset`, the durable entries from there on are superseded too.
  mutating func truncateAndAppend(_ newEntries: [LogEntry]) {
    guard let first = newEntries.first else { return }
    let end = offset + UInt64(entries.count)
    if first.index == end {
      entries.append(contentsOf: newEntries)
    } else if first.index <= offset {
      offset = first.index
      entries = newEntries
    } else {
      entries.removeSubrange(Int(first.index - offset)...)
      entries.append(contentsOf: newEntries)
    }
  }

  /// Forgets the entries through `position`, now durable, if the tail still holds that exact
  /// entry (it may have been overwritten since the Ready was made).
  mutating func stableTo(_ position: TermIndex) {
    guard term(at: position.index) == position.term, position.index >= offset else { return }
    entries.removeFirst(Int(position.index + 1 - offset))
    offset = position.index + 1
  }

  /// Forgets the pending compaction point once it is durable.
  mutating func snapshotStable(at index: UInt64) {
    if snapshot?.last.index == index { snapshot = nil }
  }

  /// Replaces everything with an empty tail after `metadata`.
  mutating func restore(_ metadata: SnapshotMetadata) {
    snapshot = metadata
    entries = []
    offset = metadata.last.index + 1
  }
}
