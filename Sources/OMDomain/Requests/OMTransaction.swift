import OMMetadata
import OMProto

/// The view one apply has of the tables: reads see this transaction's own writes first, then the
/// table caches, then RocksDB; writes are only recorded, into the transaction's `OMBatchPart`.
///
/// Nothing here reads a clock or a random source: the log index is the only input besides the
/// request and the tables, which is what keeps every replica's apply identical.
public final class OMTransaction {
  public let index: UInt64
  public let term: UInt64
  private let store: OMMetadataStore
  public private(set) var part = OMBatchPart()
  private var volumes = PendingRows<VolumeInfo>()
  private var buckets = PendingRows<BucketInfo>()
  private var keys = PendingRows<KeyInfo>()
  private var openKeys = PendingRows<KeyInfo>()

  public init(index: UInt64, term: UInt64, store: OMMetadataStore) {
    precondition(index > 0 && index < OMTransaction.maxIndex, "log index \(index) out of range")
    self.index = index
    self.term = term
    self.store = store
  }

  /// Ozone's `MAX_TRXN_ID`: object ids keep 8 low bits for objects created by one transaction.
  static let maxIndex: UInt64 = (1 << 54) - 2

  /// An object id derived from the log index (Ozone's `OmUtils.getObjectIdFromTxId`).
  public func objectID(offset: UInt64 = 0) -> UInt64 {
    precondition(offset < 256)
    return (UInt64(2) << 62) | (index << 8) | offset
  }

  // MARK: volumes

  public func volume(_ name: String) throws -> VolumeInfo? {
    try volumes.read(OMKeys.volume(name)) { try store.volumeTable.get($0) }
  }

  public func putVolume(_ info: VolumeInfo) {
    let key = OMKeys.volume(info.volume)
    volumes.write(key, info)
    part.volumes.append(TableChange(key: key, value: info))
  }

  public func deleteVolume(_ name: String) {
    let key = OMKeys.volume(name)
    volumes.write(key, nil)
    part.volumes.append(TableChange(key: key, value: nil))
  }

  // MARK: buckets

  public func bucket(_ volume: String, _ bucket: String) throws -> BucketInfo? {
    try buckets.read(OMKeys.bucket(volume, bucket)) { try store.bucketTable.get($0) }
  }

  public func putBucket(_ info: BucketInfo) {
    let key = OMKeys.bucket(info.volumeName, info.bucketName)
    buckets.write(key, info)
    part.buckets.append(TableChange(key: key, value: info))
  }

  public func deleteBucket(_ volume: String, _ bucket: String) {
    let key = OMKeys.bucket(volume, bucket)
    buckets.write(key, nil)
    part.buckets.append(TableChange(key: key, value: nil))
  }

  /// Every bucket of a volume as the tables hold it (volumes and buckets are fully cached).
  public func buckets(of volume: String) throws -> [BucketInfo] {
    let page = try store.bucketTable.list(prefix: OMKeys.bucketPrefix(volume), startAfter: nil, limit: Int.max - 1)
    return page.rows.map(\.value)
  }

  /// Whether a volume has at least one bucket.
  public func hasBuckets(_ volume: String) throws -> Bool {
    try !store.bucketTable.list(prefix: OMKeys.bucketPrefix(volume), startAfter: nil, limit: 1).rows.isEmpty
  }

  // MARK: keys

  public func key(_ volume: String, _ bucket: String, _ name: String) throws -> KeyInfo? {
    try keys.read(OMKeys.key(volume, bucket, name)) { try store.keyTable.get($0) }
  }

  public func putKey(_ info: KeyInfo) {
    let key = OMKeys.key(info.volumeName, info.bucketName, info.keyName)
    keys.write(key, info)
    part.keys.append(TableChange(key: key, value: info))
  }

  public func deleteKey(_ volume: String, _ bucket: String, _ name: String) {
    let key = OMKeys.key(volume, bucket, name)
    keys.write(key, nil)
    part.keys.append(TableChange(key: key, value: nil))
  }

  /// Whether a bucket holds at least one committed key (open keys do not count, as in Ozone).
  public func hasKeys(_ volume: String, _ bucket: String) throws -> Bool {
    try !store.keyTable.list(prefix: OMKeys.keyPrefix(volume, bucket), startAfter: nil, limit: 1).rows.isEmpty
  }

  public func openKey(_ volume: String, _ bucket: String, _ name: String, clientID: UInt64) throws -> KeyInfo? {
    try openKeys.read(OMKeys.openKey(volume, bucket, name, clientID: clientID)) { try store.openKeyTable.get($0) }
  }

  public func putOpenKey(_ info: KeyInfo) {
    let key = OMKeys.openKey(info.volumeName, info.bucketName, info.keyName, clientID: info.clientID)
    openKeys.write(key, info)
    part.openKeys.append(TableChange(key: key, value: info))
  }

  public func deleteOpenKey(_ volume: String, _ bucket: String, _ name: String, clientID: UInt64) {
    let key = OMKeys.openKey(volume, bucket, name, clientID: clientID)
    openKeys.write(key, nil)
    part.openKeys.append(TableChange(key: key, value: nil))
  }

  /// Queues a key version for block deletion (deletedTable), keyed by its object id.
  public func addDeletedKey(_ info: KeyInfo) {
    let key = OMKeys.deletedKey(info.volumeName, info.bucketName, info.keyName, objectID: info.objectID)
    part.deletedKeys.append(TableChange(key: key, value: info))
  }
}

/// This transaction's own writes to one table, consulted before the store.
private struct PendingRows<Value> {
  private var rows: [[UInt8]: Value?] = [:]

  func read(_ key: [UInt8], orElse load: ([UInt8]) throws -> Value?) rethrows -> Value? {
    if let pending = rows[key] { return pending }
    return try load(key)
  }

  mutating func write(_ key: [UInt8], _ value: Value?) {
    rows[key] = .some(value)
  }
}
