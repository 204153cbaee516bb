import RocksDB
import SwiftProtobuf
import Synchronization

/// One page of a listing.
public struct TablePage<Value: Sendable>: Sendable {
  public var rows: [(key: [UInt8], value: Value)]
  /// True when more rows follow the last one returned.
  public var isTruncated: Bool
}

/// A column family of protobuf values read through its table cache.
///
/// Reads consult the cache first (a tombstone hides the database row); writes never touch the
/// database directly: apply writes the cache and the double buffer writes RocksDB.
public final class TypedTable<Value: SwiftProtobuf.Message & Sendable>: Sendable {
  public let name: OMTableName
  public let cache: TableCache<Value>
  /// The open database and this table's family in it; replaced when a checkpoint is installed.
  private let binding: Mutex<(family: RocksColumnFamily, database: RocksDatabase)>

  init(name: OMTableName, family: RocksColumnFamily, database: RocksDatabase, cacheMode: TableCache<Value>.Mode) {
    self.name = name
    self.binding = Mutex((family: family, database: database))
    self.cache = TableCache(mode: cacheMode)
  }

  var family: RocksColumnFamily { binding.withLock { $0.family } }

  /// Points the table at another database and forgets the cache (the caller reloads full caches).
  func rebind(family: RocksColumnFamily, database: RocksDatabase) {
    binding.withLock { $0 = (family: family, database: database) }
    cache.removeAll()
  }

  /// The row at `key`, as apply left it (cache) or as flushed (database). Inlinable so that apply
  /// (another module) calls a specialised copy.
  @inlinable
  public func get(_ key: [UInt8]) throws -> Value? {
    switch cache.lookup(key) {
    case .exists(let value): return value
    case .absent: return nil
    case .mayExist: return try getSkipCache(key)
    }
  }

  /// The row at `key` in RocksDB, ignoring the cache.
  public func getSkipCache(_ key: [UInt8]) throws -> Value? {
    let (family, database) = binding.withLock { $0 }
    guard let bytes = try database.get(key, in: family) else { return nil }
    return try decode(bytes, key: key)
  }

  /// Rows whose key starts with `prefix`, after `startAfter` (exclusive), at most `limit` of them,
  /// merged from the cache and RocksDB with the cache winning and tombstones hiding rows.
  public func list(prefix: [UInt8], startAfter: [UInt8]?, limit: Int) throws -> TablePage<Value> {
    precondition(limit >= 0)
    let cached = cache.entries(prefix: prefix, after: startAfter)
    if cache.mode == .full {
      let live = cached.compactMap { row in row.entry.value.map { (key: row.key, value: $0) } }
      return TablePage(rows: Array(live.prefix(limit)), isTruncated: live.count > limit)
    }
    var merger = ListingMerger<Value>(cached: cached, limit: limit)
    let (family, database) = binding.withLock { $0 }
    let iterator = try database.makeIterator(in: family, prefix: prefix)
    if let startAfter, prefix.lexicographicallyPrecedes(startAfter) {
      iterator.seek(to: startAfter)
    } else {
      iterator.seekToFirst()
    }
    while iterator.isValid, !merger.isFull {
      let key = iterator.key
      if key != startAfter {
        merger.offerDatabaseRow(key: key, value: try decode(iterator.value, key: key))
      }
      iterator.next()
    }
    try iterator.checkError()
    return merger.finish()
  }

  func encode(_ value: Value) -> [UInt8] {
    // Serializing a fully initialised proto3 message cannot fail.
    try! value.serializedBytes()
  }

  func decode(_ bytes: [UInt8], key: [UInt8]) throws -> Value {
    do {
      return try Value(serializedBytes: bytes)
    } catch {
      throw OMMetadataError(
        .corruptValue, "\(name.rawValue): the value at \(String(decoding: key, as: UTF8.self)) does not decode: \(error)")
    }
  }
}

/// Merges sorted database rows with sorted cache entries into one page.
struct ListingMerger<Value: Sendable> {
  private let cached: [(key: [UInt8], entry: TableCache<Value>.Entry)]
  private var cachedPosition = 0
  private let limit: Int
  private var rows: [(key: [UInt8], value: Value)] = []

  init(cached: [(key: [UInt8], entry: TableCache<Value>.Entry)], limit: Int) {
    self.cached = cached
    self.limit = limit
  }

  /// One more than the page: the extra row only proves truncation.
  var isFull: Bool { rows.count > limit }

  /// Offers the next database row (in key order); cache entries sorting before it go first.
  mutating func offerDatabaseRow(key: [UInt8], value: Value) {
    emitCached(before: key)
    guard !isFull else { return }
    if cachedPosition < cached.count, cached[cachedPosition].key == key {
      // The cache holds a newer version (or a tombstone) of this row.
      emitCachedEntry()
    } else {
      rows.append((key: key, value: value))
    }
  }

  mutating func finish() -> TablePage<Value> {
    emitCached(before: nil)
    let truncated = rows.count > limit
    return TablePage(rows: Array(rows.prefix(limit)), isTruncated: truncated)
  }

  private mutating func emitCached(before key: [UInt8]?) {
    while !isFull, cachedPosition < cached.count,
      key.map({ cached[cachedPosition].key.lexicographicallyPrecedes($0) }) ?? true
    {
      emitCachedEntry()
    }
  }

  private mutating func emitCachedEntry() {
    let row = cached[cachedPosition]
    cachedPosition += 1
    if let value = row.entry.value {
      rows.append((key: row.key, value: value))
    }
  }
}
