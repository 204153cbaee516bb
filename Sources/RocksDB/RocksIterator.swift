import CRocksDB

/// A forward cursor over one column family, optionally limited to `[lowerBound, upperBound)`.
///
/// Not thread-safe: one owner at a time. It holds its database strongly, so it never outlives it;
/// its bounds are copied and kept alive with it. A new iterator is not positioned: call a seek
/// first. When `isValid` turns false, call `checkError()` to tell the end from a failure (RocksDB's
/// rule), including a close of the database from another thread, which invalidates the iterator.
public final class RocksIterator {
  private let database: RocksDatabase
  private let state: IteratorHandle

  init(database: RocksDatabase, state: IteratorHandle) {
    self.database = database
    self.state = state
  }

  deinit { database.handle.releaseIterator(state) }

  /// Positions at the first key at or after `key` (at or after the lower bound, if that is later).
  public func seek(to key: [UInt8]) {
    _ = database.handle.withLiveIterator(state) { iterator in
      withCBytes(key) { keyStart, keyCount in rocksdb_iter_seek(iterator, keyStart, keyCount) }
    }
  }

  public func seekToFirst() {
    _ = database.handle.withLiveIterator(state) { rocksdb_iter_seek_to_first($0) }
  }

  public var isValid: Bool {
    database.handle.withLiveIterator(state) { rocksdb_iter_valid($0) != 0 } ?? false
  }

  /// The current key; requires `isValid`. Empty once a close invalidated the iterator.
  public var key: [UInt8] {
    database.handle.withLiveIterator(state) { iterator in
      precondition(rocksdb_iter_valid(iterator) != 0, "RocksIterator.key read while not valid")
      var count = 0
      let start = rocksdb_iter_key(iterator, &count)
      return copyBytes(start, count: count)
    } ?? []
  }

  /// The current value; requires `isValid`. Empty once a close invalidated the iterator.
  public var value: [UInt8] {
    database.handle.withLiveIterator(state) { iterator in
      precondition(rocksdb_iter_valid(iterator) != 0, "RocksIterator.value read while not valid")
      var count = 0
      let start = rocksdb_iter_value(iterator, &count)
      return copyBytes(start, count: count)
    } ?? []
  }

  /// Moves to the next key; requires `isValid`.
  public func next() {
    _ = database.handle.withLiveIterator(state) { iterator in
      precondition(rocksdb_iter_valid(iterator) != 0, "RocksIterator.next() called while not valid")
      rocksdb_iter_next(iterator)
    }
  }

  /// Throws the error that stopped the iteration, if any; `.closed` after a close of the database.
  public func checkError() throws {
    let checked: Void? = try database.handle.withLiveIterator(state) { iterator in
      try withRocksDBError(.iterate, "iterating over \(database.path)") { error in
        rocksdb_iter_get_error(iterator, error)
      }
    }
    if checked == nil {
      throw RocksDBError(
        .closed, "iterating over \(database.path): the database was closed under the iterator")
    }
  }
}

extension RocksDatabase {
  /// An iterator over the keys of `family` in `[lowerBound, upperBound)`; a nil bound is open.
  public func makeIterator(
    in family: RocksColumnFamily, lowerBound: [UInt8]? = nil, upperBound: [UInt8]? = nil
  ) throws -> RocksIterator {
    let state = try handle.makeIterator(
      family: family, lowerBound: lowerBound, upperBound: upperBound)
    return RocksIterator(database: self, state: state)
  }

  /// An iterator over the keys of `family` that start with `prefix`.
  public func makeIterator(in family: RocksColumnFamily, prefix: [UInt8]) throws -> RocksIterator {
    try makeIterator(in: family, lowerBound: prefix, upperBound: Self.prefixSuccessor(prefix))
  }

  /// The smallest key greater than every key that starts with `prefix`, or nil when there is none
  /// (the prefix is empty or all 0xFF): then no upper bound is needed.
  public static func prefixSuccessor(_ prefix: [UInt8]) -> [UInt8]? {
    guard let last = prefix.lastIndex(where: { $0 != 0xFF }) else { return nil }
    var successor = Array(prefix[...last])
    successor[last] += 1
    return successor
  }
}
