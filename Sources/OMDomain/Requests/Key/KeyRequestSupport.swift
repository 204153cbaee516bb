import OMProto

/// Lookups every key request starts with.
enum KeyRequestSupport {
  /// The bucket a key request addresses, or the precise reason it does not exist.
  static func bucket(_ volume: String, _ bucket: String, in transaction: OMTransaction) throws -> BucketInfo {
    if let info = try transaction.bucket(volume, bucket) { return info }
    if try transaction.volume(volume) == nil {
      throw OMException(.volumeNotFound, "volume \(volume) not found")
    }
    throw OMException(.bucketNotFound, "bucket \(volume)/\(bucket) not found")
  }

  /// Bytes a key occupies counting its replicas, which is what Ozone's bucket usage and space
  /// quota count. A product that does not fit is refused, never trapped on: a trap in apply
  /// would stop every replica on the same entry.
  static func replicatedBytes(_ key: KeyInfo) throws(OMException) -> UInt64 {
    let (bytes, overflow) = key.dataSize.multipliedReportingOverflow(by: UInt64(max(key.replicationFactor, 1)))
    if overflow {
      throw OMException(.quotaExceeded, "key \(key.keyName): \(key.dataSize) bytes × \(key.replicationFactor) replicas is too large")
    }
    return bytes
  }

  /// Ozone's data sizes are Java longs; anything larger is refused before the log.
  static func checkDataSize(_ arguments: KeyArgs) throws(OMException) {
    if arguments.dataSize > UInt64(Int64.max) {
      throw OMException(.invalidRequest, "data size \(arguments.dataSize) is larger than \(Int64.max) bytes")
    }
  }

  /// Ozone's default replication for a key when the client names none: RATIS, three copies.
  static func normalizeReplication(_ arguments: inout KeyArgs) throws(OMException) {
    switch arguments.replicationType {
    case .unspecified:
      arguments.replicationType = .ratis
      if arguments.replicationFactor == 0 { arguments.replicationFactor = 3 }
    case .ratis, .standAlone:
      if arguments.replicationFactor == 0 { arguments.replicationFactor = 3 }
      guard arguments.replicationFactor == 1 || arguments.replicationFactor == 3 else {
        throw OMException(.invalidRequest, "replication factor \(arguments.replicationFactor) is not ONE or THREE")
      }
    case .ec, .UNRECOGNIZED:
      throw OMException(.notSupportedOperation, "replication type \(arguments.replicationType) is not supported")
    }
  }
}
