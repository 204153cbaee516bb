/// An in-memory ``RaftStorage`` for tests and simulation: what it holds is what a disk would
/// hold after every write was fsync'd.
///
/// A class, because the application writes it while the core reads it (the core holds the same
/// instance). Not thread-safe: one owner drives both.
public final class MemoryRaftStorage: RaftStorage {
  public private(set) var hardState: HardState
  public private(set) var snapshot: SnapshotMetadata
  /// The entries after the compaction point, `firstIndex ... lastIndex`.
  public private(set) var entries: [LogEntry]

  /// A fresh log for a founding peer of `membership` (see ``BootstrapLog``), or an empty one
  /// for a peer that will join an existing group (`.empty`).
  public convenience init(membership: Membership) {
    let bootstrap = BootstrapLog(membership: membership)
    self.init(
      hardState: bootstrap.hardState, snapshot: SnapshotMetadata(last: .zero, membership: .empty),
      entries: bootstrap.entries)
  }

  /// A log holding exactly this state, for a restart or a copy.
  public init(hardState: HardState, snapshot: SnapshotMetadata, entries: [LogEntry]) {
    for (offset, entry) in entries.enumerated() {
      precondition(entry.index == snapshot.last.index + 1 + UInt64(offset), "entries not contiguous")
    }
    self.hardState = hardState
    self.snapshot = snapshot
    self.entries = entries
  }

  /// A copy that later writes to either do not affect the other (a crash keeps the copy).
  public func copy() -> MemoryRaftStorage {
    MemoryRaftStorage(hardState: hardState, snapshot: snapshot, entries: entries)
  }

  public var firstIndex: UInt64 { snapshot.last.index + 1 }
  public var lastIndex: UInt64 { snapshot.last.index + UInt64(entries.count) }

  public func term(at index: UInt64) throws(RaftStorageError) -> UInt64 {
    if index == snapshot.last.index { return snapshot.last.term }
    guard index >= firstIndex else {
      throw RaftStorageError(.compacted, "index \(index) is below the first index \(firstIndex)")
    }
    guard index <= lastIndex else {
      throw RaftStorageError(.unavailable, "index \(index) is past the last index \(lastIndex)")
    }
    return entries[offset(of: index)].term
  }

  public func entries(in range: Range<UInt64>, payloadBytesMax: Int) throws(RaftStorageError)
    -> [LogEntry]
  {
    guard range.lowerBound >= firstIndex else {
      throw RaftStorageError(.compacted, "index \(range.lowerBound) is below \(firstIndex)")
    }
    guard range.upperBound <= lastIndex + 1 else {
      throw RaftStorageError(.unavailable, "index \(range.upperBound - 1) is past \(lastIndex)")
    }
    return limitedByPayload(
      entries[offset(of: range.lowerBound)..<offset(of: range.upperBound)], payloadBytesMax)
  }

  /// Persists what `ready` asks for, in the order the contract requires: snapshot metadata,
  /// entries, hard state.
  public func save(_ ready: Ready) {
    if let snapshot = ready.snapshot { applySnapshot(snapshot) }
    append(ready.entries)
    if let hardState = ready.hardState { setHardState(hardState) }
  }

  /// Writes `newEntries`, discarding every held entry at or after the first new index.
  public func append(_ newEntries: [LogEntry]) {
    guard let first = newEntries.first else { return }
    precondition(first.index <= lastIndex + 1, "append leaves a gap after \(lastIndex)")
    let kept = newEntries.drop { $0.index < firstIndex }
    guard let firstKept = kept.first else { return }
    entries.removeSubrange(offset(of: firstKept.index)...)
    entries.append(contentsOf: kept)
  }

  public func setHardState(_ newHardState: HardState) {
    precondition(newHardState.term >= hardState.term, "term went backwards")
    hardState = newHardState
  }

  /// Replaces the whole log with an empty one that starts after `metadata` (after the state
  /// machine installed a checkpoint at that point).
  public func applySnapshot(_ metadata: SnapshotMetadata) {
    precondition(metadata.last.index >= snapshot.last.index, "snapshot older than the log")
    snapshot = metadata
    entries = []
  }

  /// Discards the entries up to and including `index`, which the state machine has applied and
  /// made durable. The membership at `index` is folded into the compaction point.
  public func compact(through index: UInt64) {
    guard index > snapshot.last.index else { return }
    precondition(index <= lastIndex, "compact past the last index \(lastIndex)")
    var membership = snapshot.membership
    let removed = entries[..<offset(of: index + 1)]
    for entry in removed where entry.kind == .membershipChange {
      // Entries in the log were validated when appended; a failure here is a corrupt log.
      guard let change = try? MembershipChange(decoding: entry.data),
        let next = try? membership.applying(change)
      else { preconditionFailure("undecodable membership entry \(entry.termIndex)") }
      membership = next
    }
    snapshot = SnapshotMetadata(last: removed.last!.termIndex, membership: membership)
    entries.removeFirst(removed.count)
  }

  private func offset(of index: UInt64) -> Int {
    Int(index - firstIndex)
  }
}

/// The longest prefix of `entries` whose payload stays within `payloadBytesMax`, but at least
/// one entry, so that a single large entry still moves.
func limitedByPayload(_ entries: ArraySlice<LogEntry>, _ payloadBytesMax: Int) -> [LogEntry] {
  var total = 0
  var count = 0
  for entry in entries {
    total += entry.payloadBytes
    if count > 0 && total > payloadBytesMax { break }
    count += 1
  }
  return Array(entries.prefix(count))
}
