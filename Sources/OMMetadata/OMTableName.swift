/// The OM's tables, one RocksDB column family each (names as in Ozone's OMDBDefinition).
public enum OMTableName: String, CaseIterable, Sendable {
  case volumeTable
  case bucketTable
  case keyTable
  case openKeyTable
  case deletedTable
  case transactionInfoTable
  case metaTable
}

/// Table keys, built the way Ozone builds them (`/vol`, `/vol/bucket`, `/vol/bucket/key`).
///
/// Keys are compared and stored as UTF-8 bytes, never as Swift `String`s: Swift compares strings by
/// canonical equivalence, RocksDB by bytes, and the two must agree on what is one key.
public enum OMKeys {
  public static func volume(_ volume: String) -> [UInt8] { Array("/\(volume)".utf8) }
  public static func bucket(_ volume: String, _ bucket: String) -> [UInt8] { Array("/\(volume)/\(bucket)".utf8) }
  public static func key(_ volume: String, _ bucket: String, _ key: String) -> [UInt8] {
    Array("/\(volume)/\(bucket)/\(key)".utf8)
  }
  public static func openKey(_ volume: String, _ bucket: String, _ key: String, clientID: UInt64) -> [UInt8] {
    Array("/\(volume)/\(bucket)/\(key)/\(clientID)".utf8)
  }
  public static func deletedKey(_ volume: String, _ bucket: String, _ key: String, objectID: UInt64) -> [UInt8] {
    Array("/\(volume)/\(bucket)/\(key)/\(objectID)".utf8)
  }
  /// The prefix under which a volume's buckets are listed.
  public static func bucketPrefix(_ volume: String) -> [UInt8] { Array("/\(volume)/".utf8) }
  /// The prefix under which a bucket's keys are listed.
  public static func keyPrefix(_ volume: String, _ bucket: String) -> [UInt8] { Array("/\(volume)/\(bucket)/".utf8) }

  /// transactionInfoTable's only key.
  public static let transactionInfo = Array("#TRANSACTIONINFO".utf8)
  /// metaTable key holding the storage layout version.
  public static let layoutVersion = Array("#LAYOUTVERSION".utf8)
}
