import Synchronization

/// An in-memory overlay over one table: what apply has written and the flush has not yet evicted.
///
/// Entries carry the log index that wrote them (the epoch) and either a value or a tombstone.
/// A *full* cache holds every row of its table (loaded at start; volumes and buckets): a miss
/// means the row does not exist and only tombstones are evicted after a flush. A *partial* cache
/// (keys) holds only recent changes: a miss means "ask RocksDB", and a flushed entry is evicted
/// only while its epoch still matches, so a newer overwrite survives the eviction of an older one.
public final class TableCache<Value: Sendable>: Sendable {
  /// Whether a miss means "absent" (full) or "read the database" (partial).
  public enum Mode: Sendable {
    case full
    case partial
  }

  /// One cached row.
  public struct Entry: Sendable {
    public var epoch: UInt64
    /// nil is a tombstone: deleted in the cache, maybe not yet in the database.
    public var value: Value?

    @inlinable
    init(epoch: UInt64, value: Value?) {
      self.epoch = epoch
      self.value = value
    }
  }

  /// The answer of a cache lookup.
  public enum Lookup {
    case exists(Value)
    case absent
    case mayExist
  }

  public let mode: Mode
  // Inlinable lookups (below) read it: apply calls them from another module for every request,
  // and an unspecialised generic call instantiated type metadata at run time each time.
  @usableFromInline let entries = Mutex<[[UInt8]: Entry]>([:])

  public init(mode: Mode) {
    self.mode = mode
  }

  @inlinable
  public func lookup(_ key: [UInt8]) -> Lookup {
    let entry = entries.withLock { $0[key] }
    switch (entry, mode) {
    case (.some(let entry), _):
      if let value = entry.value { return .exists(value) }
      return .absent
    case (.none, .full): return .absent
    case (.none, .partial): return .mayExist
    }
  }

  /// Records a change made by apply at log index `epoch`.
  @inlinable
  public func put(_ key: [UInt8], _ value: Value?, epoch: UInt64) {
    entries.withLock { $0[key] = Entry(epoch: epoch, value: value) }
  }

  /// Loads a row at start-up (full caches only).
  func load(_ key: [UInt8], _ value: Value) {
    precondition(mode == .full, "only full caches are loaded at start")
    entries.withLock { $0[key] = Entry(epoch: 0, value: value) }
  }

  /// Forgets every row: the database under the cache was replaced (see `OMMetadataStore.replace`).
  func removeAll() {
    entries.withLock { $0.removeAll() }
  }

  /// Drops entries that the flush has made durable, unless a later change replaced them.
  public func evict(_ flushed: [(key: [UInt8], epoch: UInt64)]) {
    entries.withLock { entries in
      for (key, epoch) in flushed {
        guard let entry = entries[key], entry.epoch == epoch else { continue }
        if mode == .partial || entry.value == nil {
          entries[key] = nil
        }
      }
    }
  }

  /// Entries whose key starts with `prefix` and sorts after `startAfter` (bytewise), sorted.
  func entries(prefix: [UInt8], after startAfter: [UInt8]?) -> [(key: [UInt8], entry: Entry)] {
    let selected = entries.withLock { entries in
      entries.filter { key, _ in
        key.starts(with: prefix) && (startAfter.map { $0.lexicographicallyPrecedes(key) } ?? true)
      }
    }
    return selected.map { (key: $0.key, entry: $0.value) }.sorted { $0.key.lexicographicallyPrecedes($1.key) }
  }

  /// How many rows the cache holds (tombstones included).
  public var count: Int { entries.withLock { $0.count } }
}
