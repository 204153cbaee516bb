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
  /// quota count.
  static func replicatedBytes(_ key: KeyInfo) -> UInt64 {
    key.dataSize * UInt64(max(key.replicationFactor, 1))
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
