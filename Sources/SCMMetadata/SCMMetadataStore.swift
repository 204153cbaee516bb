import Foundation
import LogPosition
import RocksDB

/// SCM's RocksDB database, `scm.db`: the state every SCM of the service replicates (sequence ids
/// today; pipelines, containers and the deleted-block log as the following steps fill them).
///
/// Writes come from the one apply thread, as one batch per applied entry that also records the
/// entry's position (`scmTransactionInfos`), so the database always holds the effects of a prefix
/// of the log. They are not synced: the Raft log is the write-ahead log, and a restart replays
/// from the position the database holds. Reads may run on any thread.
public final class SCMMetadataStore: Sendable {
  /// Version of the table layout written by `initialize`; `open` refuses any other.
  public static let layoutVersion = "1"

  static let transactionInfoKey = Array("#TRANSACTIONINFO".utf8)
  static let layoutVersionKey = Array("#LAYOUTVERSION".utf8)

  public let path: String
  private let database: RocksDatabase
  private let families: [SCMTableName: RocksColumnFamily]

  private init(path: String, database: RocksDatabase) throws {
    self.path = path
    self.database = database
    var families: [SCMTableName: RocksColumnFamily] = [:]
    for name in SCMTableName.allCases { families[name] = try database.columnFamily(name.rawValue) }
    self.families = families
  }

  /// Creates a new, empty scm.db at `path`; refuses a path that already holds one.
  public static func initialize(path: String) throws {
    if FileManager.default.fileExists(atPath: path) {
      throw SCMMetadataError(.alreadyInitialized, "\(path) already exists; refusing to overwrite an initialised SCM database")
    }
    let database = try RocksDatabase.open(path: path, columnFamilies: SCMTableName.allCases.map(\.rawValue))
    defer { database.close() }
    let meta = try database.columnFamily(SCMTableName.meta.rawValue)
    try database.put(layoutVersionKey, Array(layoutVersion.utf8), in: meta, sync: true)
  }

  /// Opens an initialised scm.db.
  public static func open(path: String) throws -> SCMMetadataStore {
    guard FileManager.default.fileExists(atPath: path) else {
      throw SCMMetadataError(.notInitialized, "no SCM database at \(path); run 'o3 scm --init' first")
    }
    var options = RocksDBOptions()
    options.createIfMissing = false
    let database = try RocksDatabase.open(path: path, columnFamilies: SCMTableName.allCases.map(\.rawValue), options: options)
    do {
      let store = try SCMMetadataStore(path: path, database: database)
      let version = try database.get(layoutVersionKey, in: store.family(.meta)).map { String(decoding: $0, as: UTF8.self) }
      guard version == layoutVersion else {
        throw SCMMetadataError(
          .unsupportedLayout, "\(path) has layout version \(version ?? "(none)"); this SCM reads version \(layoutVersion)")
      }
      return store
    } catch {
      database.close()
      throw error
    }
  }

  public func close() { database.close() }

  func family(_ name: SCMTableName) -> RocksColumnFamily { families[name]! }

  /// The position of the last entry whose effects the database holds (`.zero` for a new one).
  public func transactionInfo() throws -> TermIndex {
    guard let bytes = try database.get(Self.transactionInfoKey, in: family(.scmTransactionInfos)) else { return .zero }
    guard let position = TermIndex(encoded: bytes) else {
      throw SCMMetadataError(.corruptValue, "\(path): the transaction info '\(String(decoding: bytes, as: UTF8.self))' is not term#index")
    }
    return position
  }

  /// The last id of `sequence` handed out in a batch (0 when none was).
  public func lastID(of sequence: String) throws -> UInt64 {
    guard let bytes = try database.get(Array(sequence.utf8), in: family(.sequenceId)) else { return 0 }
    guard bytes.count == 8 else {
      throw SCMMetadataError(.corruptValue, "\(path): sequence \(sequence) holds \(bytes.count) bytes, not 8")
    }
    return bytes.reduce(0) { $0 << 8 | UInt64($1) }
  }

  /// Writes one applied entry's changes and its position, atomically.
  public func apply(_ changes: SCMChanges, at position: TermIndex, sync: Bool = false) throws {
    let batch = RocksWriteBatch()
    for (sequence, lastID) in changes.sequenceLastIDs {
      batch.put(Array(sequence.utf8), Self.bigEndian(lastID), in: family(.sequenceId))
    }
    batch.put(Self.transactionInfoKey, position.encoded, in: family(.scmTransactionInfos))
    try database.write(batch, sync: sync)
  }

  static func bigEndian(_ value: UInt64) -> [UInt8] {
    (0..<8).map { UInt8(truncatingIfNeeded: value >> (56 - 8 * $0)) }
  }
}

/// What one applied entry changes in scm.db.
public struct SCMChanges: Sendable, Equatable {
  /// New last ids of sequences, by sequence name.
  public var sequenceLastIDs: [String: UInt64] = [:]

  public init(sequenceLastIDs: [String: UInt64] = [:]) {
    self.sequenceLastIDs = sequenceLastIDs
  }
}
