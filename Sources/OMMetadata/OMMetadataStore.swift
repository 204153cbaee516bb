import Foundation
import OMProto
import RocksDB
import Synchronization

/// The OM's RocksDB database (`om.db`) with its typed tables and their caches.
///
/// Thread-safety: reads may run on any thread; cache writes come from the one apply thread;
/// database writes come from the one double-buffer flush thread. `replace` swaps the database
/// under all of them while apply and flush are held still.
public final class OMMetadataStore: Sendable {
  /// Version of the table layout written by `initialize`; `open` refuses any other.
  public static let layoutVersion = "1"

  public let path: String
  public let volumeTable: TypedTable<VolumeInfo>
  public let bucketTable: TypedTable<BucketInfo>
  public let keyTable: TypedTable<KeyInfo>
  public let openKeyTable: TypedTable<KeyInfo>
  public let deletedTable: TypedTable<KeyInfo>
  /// The open database and its two uncached families; replaced by `replace(with:oldSuffix:validate:)`.
  private let generation: Mutex<Generation>
  /// Held by `replace` for the whole swap and by the readers that may run on other threads
  /// (`transactionInfo`, `metaValue`, `dumpAllTables`, `createCheckpoint`), so that those wait
  /// for the new database instead of meeting a closed one. Recursive: `replace`'s validation
  /// calls the readers.
  private let swapLock = NSRecursiveLock()

  private struct Generation: Sendable {
    var database: RocksDatabase
    var transactionInfoFamily: RocksColumnFamily
    var metaFamily: RocksColumnFamily
  }

  var database: RocksDatabase { generation.withLock { $0.database } }
  var transactionInfoFamily: RocksColumnFamily { generation.withLock { $0.transactionInfoFamily } }
  var metaFamily: RocksColumnFamily { generation.withLock { $0.metaFamily } }

  /// Creates a new, empty om.db at `path`; refuses a path that already holds one.
  public static func initialize(path: String) throws {
    if FileManager.default.fileExists(atPath: path) {
      throw OMMetadataError(.alreadyInitialized, "\(path) already exists; refusing to overwrite an initialised OM database")
    }
    let database = try RocksDatabase.open(path: path, columnFamilies: OMTableName.allCases.map(\.rawValue))
    defer { database.close() }
    let meta = try database.columnFamily(OMTableName.metaTable.rawValue)
    try database.put(OMKeys.layoutVersion, Array(layoutVersion.utf8), in: meta, sync: true)
  }

  /// Opens an initialised om.db and loads the full caches (volumes, buckets).
  public static func open(path: String) throws -> OMMetadataStore {
    guard FileManager.default.fileExists(atPath: path) else {
      throw OMMetadataError(.notInitialized, "no OM database at \(path); run 'o3 om --init' first")
    }
    let database = try openExisting(path: path)
    do {
      let store = try OMMetadataStore(path: path, database: database)
      try store.checkLayoutVersion()
      try store.loadFullCaches()
      return store
    } catch {
      database.close()
      throw error
    }
  }

  private init(path: String, database: RocksDatabase) throws {
    func family(_ name: OMTableName) throws -> RocksColumnFamily { try database.columnFamily(name.rawValue) }
    self.path = path
    self.volumeTable = TypedTable(name: .volumeTable, family: try family(.volumeTable), database: database, cacheMode: .full)
    self.bucketTable = TypedTable(name: .bucketTable, family: try family(.bucketTable), database: database, cacheMode: .full)
    self.keyTable = TypedTable(name: .keyTable, family: try family(.keyTable), database: database, cacheMode: .partial)
    self.openKeyTable = TypedTable(name: .openKeyTable, family: try family(.openKeyTable), database: database, cacheMode: .partial)
    self.deletedTable = TypedTable(name: .deletedTable, family: try family(.deletedTable), database: database, cacheMode: .partial)
    self.generation = Mutex(
      Generation(database: database, transactionInfoFamily: try family(.transactionInfoTable), metaFamily: try family(.metaTable)))
  }

  private static func openExisting(path: String) throws -> RocksDatabase {
    var options = RocksDBOptions()
    options.createIfMissing = false
    return try RocksDatabase.open(path: path, columnFamilies: OMTableName.allCases.map(\.rawValue), options: options)
  }

  /// Points every table at `database` and reloads the full caches (partial caches start empty).
  private func bind(_ database: RocksDatabase) throws {
    func family(_ name: OMTableName) throws -> RocksColumnFamily { try database.columnFamily(name.rawValue) }
    let next = Generation(
      database: database, transactionInfoFamily: try family(.transactionInfoTable), metaFamily: try family(.metaTable))
    volumeTable.rebind(family: try family(.volumeTable), database: database)
    bucketTable.rebind(family: try family(.bucketTable), database: database)
    keyTable.rebind(family: try family(.keyTable), database: database)
    openKeyTable.rebind(family: try family(.openKeyTable), database: database)
    deletedTable.rebind(family: try family(.deletedTable), database: database)
    generation.withLock { $0 = next }
    try checkLayoutVersion()
    try loadFullCaches()
  }

  private func checkLayoutVersion() throws {
    let stored = try database.get(OMKeys.layoutVersion, in: metaFamily).map { String(decoding: $0, as: UTF8.self) }
    guard let stored else {
      throw OMMetadataError(.notInitialized, "\(path) has no layout version; it was not created by 'o3 om --init'")
    }
    guard stored == Self.layoutVersion else {
      throw OMMetadataError(.unsupportedLayout, "\(path) has layout version \(stored); this O3 reads version \(Self.layoutVersion)")
    }
  }

  private func loadFullCaches() throws {
    try load(volumeTable)
    try load(bucketTable)
  }

  private func load<Value>(_ table: TypedTable<Value>) throws {
    let iterator = try database.makeIterator(in: table.family)
    iterator.seekToFirst()
    while iterator.isValid {
      let key = iterator.key
      table.cache.load(key, try table.decode(iterator.value, key: key))
      iterator.next()
    }
    try iterator.checkError()
  }

  /// The term#index of the last transaction flushed to RocksDB; `.zero` for a new database.
  public func transactionInfo() throws -> TermIndex {
    swapLock.lock()
    defer { swapLock.unlock() }
    guard let bytes = try database.get(OMKeys.transactionInfo, in: transactionInfoFamily) else { return .zero }
    guard let termIndex = TermIndex(encoded: bytes) else {
      throw OMMetadataError(.corruptValue, "transactionInfoTable holds '\(String(decoding: bytes, as: UTF8.self))', not term#index")
    }
    return termIndex
  }

  /// The metaTable row at `key` as flushed to RocksDB (meta rows are not cached).
  public func metaValue(_ key: [UInt8]) throws -> [UInt8]? {
    swapLock.lock()
    defer { swapLock.unlock() }
    let generation = generation.withLock { $0 }
    return try generation.database.get(key, in: generation.metaFamily)
  }

  /// Puts one transaction's changes into the table caches, stamped with its log index.
  public func applyToCache(_ part: OMBatchPart, epoch: UInt64) {
    for change in part.volumes { volumeTable.cache.put(change.key, change.value, epoch: epoch) }
    for change in part.buckets { bucketTable.cache.put(change.key, change.value, epoch: epoch) }
    for change in part.keys { keyTable.cache.put(change.key, change.value, epoch: epoch) }
    for change in part.openKeys { openKeyTable.cache.put(change.key, change.value, epoch: epoch) }
    for change in part.deletedKeys { deletedTable.cache.put(change.key, change.value, epoch: epoch) }
  }

  /// Writes transactions to RocksDB in one atomic batch ending with their last term#index.
  func write(_ transactions: [(termIndex: TermIndex, part: OMBatchPart)], sync: Bool) throws {
    guard let last = transactions.last else { return }
    let batch = RocksWriteBatch()
    for transaction in transactions {
      add(transaction.part.volumes, of: volumeTable, to: batch)
      add(transaction.part.buckets, of: bucketTable, to: batch)
      add(transaction.part.keys, of: keyTable, to: batch)
      add(transaction.part.openKeys, of: openKeyTable, to: batch)
      add(transaction.part.deletedKeys, of: deletedTable, to: batch)
      for change in transaction.part.meta {
        if let value = change.value {
          batch.put(change.key, value, in: metaFamily)
        } else {
          batch.delete(change.key, in: metaFamily)
        }
      }
    }
    batch.put(OMKeys.transactionInfo, last.termIndex.encoded, in: transactionInfoFamily)
    try database.write(batch, sync: sync)
  }

  private func add<Value>(_ changes: [TableChange<Value>], of table: TypedTable<Value>, to batch: RocksWriteBatch) {
    for change in changes {
      if let value = change.value {
        batch.put(change.key, table.encode(value), in: table.family)
      } else {
        batch.delete(change.key, in: table.family)
      }
    }
  }

  /// Drops flushed cache entries whose epoch still matches (see `TableCache`).
  func evict(_ transactions: [(termIndex: TermIndex, part: OMBatchPart)]) {
    func flushed<Value>(_ changes: KeyPath<OMBatchPart, [TableChange<Value>]>) -> [(key: [UInt8], epoch: UInt64)] {
      transactions.flatMap { transaction in
        transaction.part[keyPath: changes].map { (key: $0.key, epoch: transaction.termIndex.index) }
      }
    }
    volumeTable.cache.evict(flushed(\.volumes))
    bucketTable.cache.evict(flushed(\.buckets))
    keyTable.cache.evict(flushed(\.keys))
    openKeyTable.cache.evict(flushed(\.openKeys))
    deletedTable.cache.evict(flushed(\.deletedKeys))
  }

  /// Every row of every table, in family then key order: for comparing replicas byte for byte.
  public func dumpAllTables() throws -> [(table: String, key: [UInt8], value: [UInt8])] {
    swapLock.lock()
    defer { swapLock.unlock() }
    var rows: [(table: String, key: [UInt8], value: [UInt8])] = []
    for name in OMTableName.allCases {
      let iterator = try database.makeIterator(in: try database.columnFamily(name.rawValue))
      iterator.seekToFirst()
      while iterator.isValid {
        rows.append((table: name.rawValue, key: iterator.key, value: iterator.value))
        iterator.next()
      }
      try iterator.checkError()
    }
    return rows
  }

  /// Creates a RocksDB checkpoint (hard links) of om.db in `directory`, which must not exist yet.
  public func createCheckpoint(at directory: String) throws {
    swapLock.lock()
    defer { swapLock.unlock() }
    try database.createCheckpoint(at: directory)
  }

  public func close() {
    database.close()
  }

  /// Replaces om.db with the database at `candidatePath` (a verified checkpoint), in place: the
  /// tables of this store read the new database afterwards, with reloaded caches.
  ///
  /// The caller must hold apply and the double buffer still: nothing may read through the
  /// caches or write while the database changes. Readers on other threads meanwhile see
  /// RocksDB's `.closed` error, never a crash. The old database is kept as
  /// `<path>.old-<oldSuffix>` until the new one is open and `validate` accepts it, then deleted;
  /// on any failure before that the old one is renamed back and reopened, and the error thrown.
  /// A crash anywhere in between is put right by `openRecovering(path:)` at the next start.
  public func replace(with candidatePath: String, oldSuffix: String, validate: (OMMetadataStore) throws -> Void) throws {
    swapLock.lock()
    defer { swapLock.unlock() }
    let files = FileManager.default
    let oldPath = OMDatabaseFiles.oldPathPrefix(for: path) + oldSuffix
    let parent = OMDatabaseFiles.parent(of: path)
    database.close()
    do {
      try files.moveItem(atPath: path, toPath: oldPath)
    } catch {
      try bind(try Self.openExisting(path: path))
      throw OMMetadataError(.storage, "cannot move \(path) aside to install a checkpoint: \(error)")
    }
    do {
      try files.moveItem(atPath: candidatePath, toPath: path)
      // Both renames must be on disk before the old database may go (a crash then finds the
      // new one in place), and before Raft is told the checkpoint is installed.
      try OMDatabaseFiles.syncDirectory(parent)
      let database = try Self.openExisting(path: path)
      do {
        try bind(database)
        try validate(self)
      } catch {
        database.close()
        throw error
      }
    } catch {
      try? files.removeItem(atPath: path)
      try files.moveItem(atPath: oldPath, toPath: path)
      try? OMDatabaseFiles.syncDirectory(parent)
      try bind(try Self.openExisting(path: path))
      throw error
    }
    try? files.removeItem(atPath: oldPath)
  }
}
