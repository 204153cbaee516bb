import CRocksDB
import Synchronization

/// The C objects of one open RocksDB, shared by its database object, column families, batches and
/// iterators.
///
/// Invariant: a C object is used only under `lock`'s read side after checking that `database` is
/// not nil, and freed only under its write side (in `close()`). A call in flight therefore finishes
/// before a close frees anything, and every call after the close sees `database == nil`.
final class DatabaseHandle: @unchecked Sendable {
  // Safe to share: `database` and the iterators' C objects change only under `lock`'s write side
  // (or, for one iterator, under the read side by its single owner, which no other reader touches);
  // the iterator registry has its own Mutex; everything else is immutable.

  /// The C objects of an open database, valid only inside the closure that received them.
  struct Open {
    let database: OpaquePointer
    let readOptions: OpaquePointer
    let writeOptions: OpaquePointer
    let syncWriteOptions: OpaquePointer
    let flushOptions: OpaquePointer
    let familyHandles: [OpaquePointer]

    func writeOptions(sync: Bool) -> OpaquePointer { sync ? syncWriteOptions : writeOptions }
  }

  let path: String
  private let lock = ReadWriteLock()
  private var database: OpaquePointer?
  private let familyHandles: [OpaquePointer]
  private let readOptions: OpaquePointer
  private let writeOptions: OpaquePointer
  private let syncWriteOptions: OpaquePointer
  private let flushOptions: OpaquePointer
  /// Iterators not yet destroyed, so that a close can destroy them before the database (RocksDB
  /// requires it).
  private let iterators = Mutex<[ObjectIdentifier: IteratorHandle]>([:])

  init(path: String, database: OpaquePointer, familyHandles: [OpaquePointer]) {
    self.path = path
    self.database = database
    self.familyHandles = familyHandles
    readOptions = rocksdb_readoptions_create()!
    writeOptions = rocksdb_writeoptions_create()!
    syncWriteOptions = rocksdb_writeoptions_create()!
    rocksdb_writeoptions_set_sync(syncWriteOptions, 1)
    flushOptions = rocksdb_flushoptions_create()!
    rocksdb_flushoptions_set_wait(flushOptions, 1)
  }

  var isClosed: Bool { lock.withReadLock { database == nil } }

  /// Runs `body` with the open database, or throws `.closed`.
  func withOpen<Result>(
    doing action: @autoclosure () -> String, _ body: (Open) throws -> Result
  ) throws -> Result {
    try lock.withReadLock {
      guard let database else {
        throw RocksDBError(.closed, "\(action()): the database at \(path) is closed")
      }
      return try body(
        Open(
          database: database, readOptions: readOptions, writeOptions: writeOptions,
          syncWriteOptions: syncWriteOptions, flushOptions: flushOptions,
          familyHandles: familyHandles))
    }
  }

  /// Runs `body` with the open database after checking that `family` was opened by it: the C
  /// handle of another database's family would silently address the wrong data.
  func withOpen<Result>(
    family: RocksColumnFamily, doing action: @autoclosure () -> String,
    _ body: (Open) throws -> Result
  ) throws -> Result {
    try withOpen(doing: action()) { open in
      guard family.database === self else {
        throw RocksDBError(
          .invalidArgument,
          "\(action()): column family '\(family.name)' belongs to another RocksDatabase "
            + "(one opened before a reopen, or at another path); use families of \(path)")
      }
      return try body(open)
    }
  }

  /// Runs `body` with the family's C handle unless the database is closed; returns whether it ran.
  func ifOpen(_ family: RocksColumnFamily, _ body: (OpaquePointer) -> Void) -> Bool {
    precondition(family.database === self)
    return lock.withReadLock {
      guard database != nil else { return false }
      body(family.cHandle)
      return true
    }
  }

  func makeIterator(
    family: RocksColumnFamily, lowerBound: [UInt8]?, upperBound: [UInt8]?
  ) throws -> IteratorHandle {
    try withOpen(family: family, doing: "creating an iterator over '\(family.name)'") { open in
      let iterator = IteratorHandle(
        database: open.database, family: family.cHandle, lowerBound: lowerBound,
        upperBound: upperBound)
      iterators.withLock { $0[ObjectIdentifier(iterator)] = iterator }
      return iterator
    }
  }

  /// Runs `body` with the iterator's C object, or returns nil when a close has destroyed it.
  func withLiveIterator<Result>(
    _ iterator: IteratorHandle, _ body: (OpaquePointer) throws -> Result
  ) rethrows -> Result? {
    try lock.withReadLock {
      guard let pointer = iterator.pointer else { return nil }
      return try body(pointer)
    }
  }

  func releaseIterator(_ iterator: IteratorHandle) {
    lock.withReadLock {
      _ = iterators.withLock { $0.removeValue(forKey: ObjectIdentifier(iterator)) }
      iterator.destroy()
    }
  }

  /// Destroys live iterators, family handles and the database, in the order RocksDB requires.
  /// Waits for calls in flight; idempotent.
  func close() {
    lock.withWriteLock {
      guard let database else { return }
      let live = iterators.withLock { registry in
        defer { registry.removeAll() }
        return Array(registry.values)
      }
      for iterator in live { iterator.destroy() }
      for family in familyHandles { rocksdb_column_family_handle_destroy(family) }
      rocksdb_close(database)
      self.database = nil
      rocksdb_readoptions_destroy(readOptions)
      rocksdb_writeoptions_destroy(writeOptions)
      rocksdb_writeoptions_destroy(syncWriteOptions)
      rocksdb_flushoptions_destroy(flushOptions)
    }
  }
}
