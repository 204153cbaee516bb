/// A column family of one open `RocksDatabase`, valid only with that database object.
///
/// Using it with another `RocksDatabase` (even one reopened at the same path) throws
/// `.invalidArgument`; using it after its database closed throws `.closed`.
public struct RocksColumnFamily: @unchecked Sendable {
  // Safe to share: `cHandle` is dereferenced only by RocksDB (whose handles are thread-safe) and
  // only under the database's lock after checking the database is open and is `database`.
  public let name: String
  let cHandle: OpaquePointer
  let database: DatabaseHandle
}
