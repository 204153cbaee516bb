import RaftCore

/// The most recently appended entries, kept in memory because the leader reads the tail of its
/// log again right away to replicate it; older entries are read from the segment files.
///
/// Invariant: when not empty, the cache holds the contiguous entries `firstIndex ... lastIndex`
/// of the log, ending at the log's last index. Bounded by ``entriesMax`` and ``payloadBytesMax``.
struct TailCache: Sendable {
  /// The bound on the number of entries kept.
  let entriesMax: Int
  /// The bound on the payload bytes kept.
  let payloadBytesMax: Int
  private var storage: [LogEntry] = []
  /// Entries before this position in `storage` are evicted; removing them is deferred so that
  /// eviction costs O(1) amortised.
  private var head = 0
  private var payloadBytes = 0

  init(entriesMax: Int, payloadBytesMax: Int) {
    precondition(entriesMax > 0 && payloadBytesMax >= 0, "tail cache bounds must be positive")
    self.entriesMax = entriesMax
    self.payloadBytesMax = payloadBytesMax
  }

  var count: Int { storage.count - head }
  /// The first cached index, or nil when empty.
  var firstIndex: UInt64? { count > 0 ? storage[head].index : nil }

  func entry(at index: UInt64) -> LogEntry? {
    guard let first = firstIndex, index >= first else { return nil }
    let position = head + Int(index - first)
    return position < storage.count ? storage[position] : nil
  }

  /// Adds `entry`, which must follow the cached entries, evicting the oldest over the bounds.
  mutating func append(_ entry: LogEntry) {
    if let last = storage.last, count > 0, entry.index != last.index + 1 { removeAll() }
    storage.append(entry)
    payloadBytes += entry.payloadBytes
    while count > entriesMax || (payloadBytes > payloadBytesMax && count > 0) { evictOldest() }
  }

  /// Drops the entries from `index` on (a truncated suffix).
  mutating func truncate(from index: UInt64) {
    guard let first = firstIndex, index <= storage.last!.index else { return }
    guard index > first else { return removeAll() }
    let keep = head + Int(index - first)
    payloadBytes -= storage[keep...].reduce(0) { $0 + $1.payloadBytes }
    storage.removeSubrange(keep...)
  }

  /// Drops the entries through `index` (a purged prefix).
  mutating func dropPrefix(through index: UInt64) {
    while let first = firstIndex, first <= index { evictOldest() }
  }

  mutating func removeAll() {
    storage.removeAll()
    head = 0
    payloadBytes = 0
  }

  private mutating func evictOldest() {
    payloadBytes -= storage[head].payloadBytes
    head += 1
    if head == storage.count {
      removeAll()
    } else if head >= 1024 && head * 2 >= storage.count {
      storage.removeFirst(head)
      head = 0
    }
  }
}
