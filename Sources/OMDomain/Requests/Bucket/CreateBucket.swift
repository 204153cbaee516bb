import OMProto

/// CreateBucket: an OBJECT_STORE bucket in an existing volume, within the volume's quotas.
enum CreateBucket: OMWriteRequestHandler {
  static func preExecute(_ request: OMRequest, context: PreExecuteContext, limits: OMRequestLimits) throws(OMException)
    -> OMRequest
  {
    var rewritten = request
    var info = request.createBucketRequest.bucketInfo
    try RequestValidation.bucketAddress(info.volumeName, info.bucketName, limits: limits)
    try RequestValidation.metadata(info.metadata, limits: limits)
    switch info.bucketLayout {
    case .unspecified, .objectStore: info.bucketLayout = .objectStore
    default:
      throw OMException(
        .notSupportedOperation, "bucket layout \(info.bucketLayout) is not supported yet; O3 creates OBJECT_STORE buckets")
    }
    if info.storageType == .unspecified { info.storageType = .disk }
    if case .UNRECOGNIZED(let value) = info.storageType {
      throw OMException(.invalidRequest, "unknown storage type \(value)")
    }
    if info.quotaInBytes == 0 { info.quotaInBytes = -1 }
    if info.quotaInNamespace == 0 { info.quotaInNamespace = -1 }
    try RequestValidation.quota(info.quotaInBytes, what: "space")
    try RequestValidation.quota(info.quotaInNamespace, what: "namespace")
    if info.owner.isEmpty { info.owner = context.userName }
    info.creationTime = context.nowMilliseconds
    info.modificationTime = context.nowMilliseconds
    info.usedBytes = 0
    info.usedNamespace = 0
    info.objectID = 0
    info.updateID = 0
    rewritten.createBucketRequest.bucketInfo = info
    return rewritten
  }

  static func apply(_ request: OMRequest, transaction: OMTransaction) throws -> OMResponse {
    var info = request.createBucketRequest.bucketInfo
    guard var volume = try transaction.volume(info.volumeName) else {
      throw OMException(.volumeNotFound, "volume \(info.volumeName) not found")
    }
    if try transaction.bucket(info.volumeName, info.bucketName) != nil {
      throw OMException(.bucketAlreadyExists, "bucket \(info.volumeName)/\(info.bucketName) already exists")
    }
    if volume.quotaInNamespace > 0 && volume.usedNamespace + 1 > UInt64(volume.quotaInNamespace) {
      throw OMException(
        .quotaExceeded, "volume \(volume.volume) already has \(volume.usedNamespace) buckets, its namespace quota")
    }
    try BucketQuotas.checkFitsVolume(
      volume: volume, newQuota: info.quotaInBytes, replacing: nil, transaction: transaction)
    info.objectID = transaction.objectID()
    info.updateID = transaction.index
    volume.usedNamespace += 1
    volume.updateID = transaction.index
    transaction.putVolume(volume)
    transaction.putBucket(info)
    return .success(.createBucket, .createBucketResponse(CreateBucketResponse()))
  }
}

/// The rules tying bucket space quotas to their volume's, as Ozone has them: in a volume with a
/// space quota every bucket needs one, and the buckets' quotas must not add up to more than the
/// volume's. Together they make the volume's quota bound its keys' bytes.
enum BucketQuotas {
  static func checkFitsVolume(
    volume: VolumeInfo, newQuota: Int64, replacing bucketName: String?, transaction: OMTransaction
  ) throws {
    guard volume.quotaInBytes > 0 else { return }
    guard newQuota > 0 else {
      throw OMException(
        .quotaError,
        "volume \(volume.volume) has a space quota, so each of its buckets needs one too")
    }
    let others = try transaction.buckets(of: volume.volume).filter { $0.bucketName != bucketName }
    let total = try sum(others.map(\.quotaInBytes) + [newQuota])
    if total.map({ $0 > volume.quotaInBytes }) ?? true {
      throw OMException(
        .quotaExceeded,
        "the bucket space quotas of volume \(volume.volume) would add up to more than its quota of \(volume.quotaInBytes) bytes")
    }
  }

  /// The sum of the positive quotas; nil when it does not fit in 64 bits.
  static func sum(_ quotas: [Int64]) throws -> Int64? {
    var total: Int64 = 0
    for quota in quotas where quota > 0 {
      let (next, overflow) = total.addingReportingOverflow(quota)
      if overflow { return nil }
      total = next
    }
    return total
  }
}
