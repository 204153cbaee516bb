import CRocksDB

extension RocksDatabase {
  /// The value stored under `key`, or nil when there is none.
  public func get(_ key: [UInt8], in family: RocksColumnFamily) throws -> [UInt8]? {
    try handle.withOpen(family: family, doing: "reading from '\(family.name)'") { open in
      // A pinned read hands us RocksDB's own buffer: one copy into the array instead of two.
      let slice = try withRocksDBError(.read, "reading a key from '\(family.name)' in \(path)") {
        error in
        withCBytes(key) { keyStart, keyCount in
          rocksdb_get_pinned_cf(
            open.database, open.readOptions, family.cHandle, keyStart, keyCount, error)
        }
      }
      guard let slice else { return nil }
      defer { rocksdb_pinnableslice_destroy(slice) }
      var count = 0
      let start = rocksdb_pinnableslice_value(slice, &count)
      return copyBytes(start, count: count)
    }
  }

  /// Stores `value` under `key`. `sync` waits for the write-ahead log to reach the disk.
  public func put(
    _ key: [UInt8], _ value: [UInt8], in family: RocksColumnFamily, sync: Bool = false
  ) throws {
    try handle.withOpen(family: family, doing: "writing to '\(family.name)'") { open in
      try withRocksDBError(.write, "writing a key to '\(family.name)' in \(path)") { error in
        withCBytes(key) { keyStart, keyCount in
          withCBytes(value) { valueStart, valueCount in
            rocksdb_put_cf(
              open.database, open.writeOptions(sync: sync), family.cHandle, keyStart, keyCount,
              valueStart, valueCount, error)
          }
        }
      }
    }
  }

  /// Removes `key`; removing a missing key is not an error. `sync` as for `put`.
  public func delete(_ key: [UInt8], in family: RocksColumnFamily, sync: Bool = false) throws {
    try handle.withOpen(family: family, doing: "deleting from '\(family.name)'") { open in
      try withRocksDBError(.write, "deleting a key from '\(family.name)' in \(path)") { error in
        withCBytes(key) { keyStart, keyCount in
          rocksdb_delete_cf(
            open.database, open.writeOptions(sync: sync), family.cHandle, keyStart, keyCount, error)
        }
      }
    }
  }

  /// Applies every operation of `batch` or none of them. `sync` waits for the write-ahead log to
  /// reach the disk.
  public func write(_ batch: RocksWriteBatch, sync: Bool) throws {
    try handle.withOpen(doing: "writing a batch") { open in
      if let refusal = batch.refusal { throw refusal }
      if let owner = batch.database, owner !== handle {
        throw RocksDBError(
          .invalidArgument,
          "writing a batch to \(path): its column families belong to another RocksDatabase")
      }
      try withRocksDBError(.write, "writing a batch of \(batch.count) operations to \(path)") {
        error in
        rocksdb_write(open.database, open.writeOptions(sync: sync), batch.pointer, error)
      }
    }
  }

  /// Flushes the memtable of every column family to SST files and waits for it.
  public func flush() throws {
    try handle.withOpen(doing: "flushing") { open in
      for (name, familyHandle) in zip(columnFamilyNames, open.familyHandles) {
        try withRocksDBError(.write, "flushing '\(name)' in \(path)") { error in
          rocksdb_flush_cf(open.database, open.flushOptions, familyHandle, error)
        }
      }
    }
  }

  /// Writes a consistent copy of the database (hard links where it can) into `directory`, which
  /// must not exist yet (RocksDB's rule). Memtables are flushed first, so the copy needs no WAL
  /// replay.
  public func createCheckpoint(at directory: String) throws {
    try handle.withOpen(doing: "creating a checkpoint at \(directory)") { open in
      let checkpoint = try withRocksDBError(.checkpoint, "preparing a checkpoint of \(path)") {
        error in
        rocksdb_checkpoint_object_create(open.database, error)
      }
      guard let checkpoint else { fatalError("rocksdb_checkpoint_object_create returned NULL") }
      defer { rocksdb_checkpoint_object_destroy(checkpoint) }
      try withRocksDBError(.checkpoint, "creating a checkpoint of \(path) at \(directory)") {
        error in
        rocksdb_checkpoint_create(checkpoint, directory, 0, error)
      }
    }
  }
}
