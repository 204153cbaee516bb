import OMProto

/// One row change: a new value, or nil for a delete.
public struct TableChange<Value: Sendable>: Sendable {
  public var key: [UInt8]
  public var value: Value?

  public init(key: [UInt8], value: Value?) {
    self.key = key
    self.value = value
  }
}

/// The database changes of one applied transaction, table by table, in the order they were made.
///
/// Apply puts these into the table caches at once; the double buffer later writes them to RocksDB
/// in one WriteBatch together with the transaction's term#index.
public struct OMBatchPart: Sendable {
  public var volumes: [TableChange<VolumeInfo>] = []
  public var buckets: [TableChange<BucketInfo>] = []
  public var keys: [TableChange<KeyInfo>] = []
  public var openKeys: [TableChange<KeyInfo>] = []
  public var deletedKeys: [TableChange<KeyInfo>] = []
  /// metaTable rows as opaque bytes (the OM records its Raft membership here). Not cached:
  /// read back with `OMMetadataStore.metaValue` once flushed.
  public var meta: [TableChange<[UInt8]>] = []

  public init() {}

  public var isEmpty: Bool {
    volumes.isEmpty && buckets.isEmpty && keys.isEmpty && openKeys.isEmpty && deletedKeys.isEmpty
  }

  public var changeCount: Int {
    volumes.count + buckets.count + keys.count + openKeys.count + deletedKeys.count + meta.count
  }
}
