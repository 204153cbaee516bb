import CRocksDB

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// An open RocksDB database and its column families; thread-safe, as RocksDB itself is.
///
/// `close()` is idempotent. It waits for calls in flight (they are short), then frees everything,
/// so the files are released when it returns; every later call throws `.closed`. Iterators still
/// alive are not waited for (their owner may be the closing thread): the close destroys their C
/// objects, after which `isValid` is false, `key` and `value` are empty and `checkError()` throws
/// `.closed`. Dropping the last reference closes the database too.
public final class RocksDatabase: Sendable {
  let handle: DatabaseHandle
  private let families: [String: RocksColumnFamily]
  /// Every column family open in this database, "default" first.
  public let columnFamilyNames: [String]

  public var path: String { handle.path }
  public var isClosed: Bool { handle.isClosed }

  private init(handle: DatabaseHandle, familyNames: [String], familyHandles: [OpaquePointer]) {
    self.handle = handle
    columnFamilyNames = familyNames
    var families: [String: RocksColumnFamily] = [:]
    for (name, cHandle) in zip(familyNames, familyHandles) {
      families[name] = RocksColumnFamily(name: name, cHandle: cHandle, database: handle)
    }
    self.families = families
  }

  deinit { handle.close() }

  /// Opens the database with "default", the given families (created when missing, if the options
  /// allow) and every other family it already has, so that a reopen never fails for want of a name.
  public static func open(
    path: String, columnFamilies: [String], options: RocksDBOptions = .init()
  ) throws -> RocksDatabase {
    let cOptions = options.makeCOptions()
    defer { rocksdb_options_destroy(cOptions) }
    var names = ["default"]
    for name in columnFamilies where !names.contains(name) { names.append(name) }
    let existing =
      databaseExists(at: path) ? try listColumnFamilies(path: path, cOptions: cOptions) : []
    for name in existing where !names.contains(name) { names.append(name) }
    let opened = try openColumnFamilies(path: path, names: names, cOptions: cOptions)
    let handle = DatabaseHandle(
      path: path, database: opened.database, familyHandles: opened.families)
    return RocksDatabase(handle: handle, familyNames: names, familyHandles: opened.families)
  }

  /// The column families of the database at `path`, as RocksDB records them.
  public static func listColumnFamilies(path: String) throws -> [String] {
    let cOptions = rocksdb_options_create()!
    defer { rocksdb_options_destroy(cOptions) }
    return try listColumnFamilies(path: path, cOptions: cOptions)
  }

  /// The family named `name`; throws `.invalidArgument` when the database has none by that name.
  public func columnFamily(_ name: String) throws -> RocksColumnFamily {
    try handle.withOpen(doing: "looking up column family '\(name)'") { _ in
      guard let family = families[name] else {
        throw RocksDBError(
          .invalidArgument,
          "looking up column family '\(name)': \(path) has only \(columnFamilyNames)")
      }
      return family
    }
  }

  /// Frees the database; see the type's documentation for calls in flight and live iterators.
  public func close() { handle.close() }

  private static func databaseExists(at path: String) -> Bool {
    access(path + "/CURRENT", F_OK) == 0
  }

  private static func listColumnFamilies(path: String, cOptions: OpaquePointer) throws -> [String] {
    var count = 0
    let list = try withRocksDBError(.open, "listing the column families of \(path)") { error in
      rocksdb_list_column_families(cOptions, path, &count, error)
    }
    guard let list else { return [] }
    defer { rocksdb_list_column_families_destroy(list, count) }
    return (0..<count).map { String(cString: list[$0]!) }
  }

  private static func openColumnFamilies(
    path: String, names: [String], cOptions: OpaquePointer
  ) throws -> (database: OpaquePointer, families: [OpaquePointer]) {
    let cNames = names.map { name -> UnsafeMutablePointer<CChar> in
      guard let copy = strdup(name) else { fatalError("strdup failed: out of memory") }
      return copy
    }
    defer { for name in cNames { free(name) } }
    let constNames: [UnsafePointer<CChar>?] = cNames.map { UnsafePointer($0) }
    let familyOptions = [OpaquePointer?](repeating: cOptions, count: names.count)
    var familyHandles = [OpaquePointer?](repeating: nil, count: names.count)
    let database = try withRocksDBError(.open, "opening RocksDB at \(path)") { error in
      rocksdb_open_column_families(
        cOptions, path, Int32(names.count), constNames, familyOptions, &familyHandles, error)
    }
    guard let database else {
      fatalError("rocksdb_open_column_families returned NULL without error")
    }
    return (database, familyHandles.map { $0! })
  }
}
