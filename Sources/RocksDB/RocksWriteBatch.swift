import CRocksDB

/// Puts and deletes over any column families of one database, applied atomically by
/// `RocksDatabase.write(_:sync:)`. Not thread-safe: one owner at a time.
///
/// Naming a family of another database than the batch's first one, or of a closed database,
/// cannot be reported by `put` or `delete` (they do not throw): the batch remembers the mistake,
/// ignores further operations, and `write` throws it until `clear()`.
public final class RocksWriteBatch {
  let pointer: OpaquePointer
  /// The database whose families this batch names, fixed by the first operation.
  private(set) var database: DatabaseHandle?
  /// Why `write` must refuse this batch.
  private(set) var refusal: RocksDBError?

  public init() {
    pointer = rocksdb_writebatch_create()!
  }

  deinit { rocksdb_writebatch_destroy(pointer) }

  public func put(_ key: [UInt8], _ value: [UInt8], in family: RocksColumnFamily) {
    record(family) { familyHandle in
      withCBytes(key) { keyStart, keyCount in
        withCBytes(value) { valueStart, valueCount in
          rocksdb_writebatch_put_cf(
            pointer, familyHandle, keyStart, keyCount, valueStart, valueCount)
        }
      }
    }
  }

  public func delete(_ key: [UInt8], in family: RocksColumnFamily) {
    record(family) { familyHandle in
      withCBytes(key) { keyStart, keyCount in
        rocksdb_writebatch_delete_cf(pointer, familyHandle, keyStart, keyCount)
      }
    }
  }

  /// The number of operations recorded.
  public var count: Int { Int(rocksdb_writebatch_count(pointer)) }

  /// The size of the batch's serialized form, to bound how much one batch carries.
  public var dataSizeBytes: Int {
    var size = 0
    _ = rocksdb_writebatch_data(pointer, &size)
    return size
  }

  /// Empties the batch and forgets its database and any recorded mistake.
  public func clear() {
    rocksdb_writebatch_clear(pointer)
    database = nil
    refusal = nil
  }

  private func record(_ family: RocksColumnFamily, _ operation: (OpaquePointer) -> Void) {
    guard refusal == nil else { return }
    if let database, database !== family.database {
      refusal = RocksDBError(
        .invalidArgument,
        "writing a batch: column family '\(family.name)' belongs to another database than the "
          + "batch's first operation (\(database.path))")
      return
    }
    database = family.database
    let recorded = family.database.ifOpen(family, operation)
    if !recorded {
      refusal = RocksDBError(
        .closed,
        "writing a batch: column family '\(family.name)' was named after its database at "
          + "\(family.database.path) closed")
    }
  }
}
