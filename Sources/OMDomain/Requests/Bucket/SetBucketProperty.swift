import OMProto

/// SetBucketProperty: versioning, storage type, owner and quotas.
enum SetBucketProperty: OMWriteRequestHandler {
  static func preExecute(_ request: OMRequest, context: PreExecuteContext, limits: OMRequestLimits) throws(OMException)
    -> OMRequest
  {
    let arguments = request.setBucketPropertyRequest
    try RequestValidation.bucketAddress(arguments.volumeName, arguments.bucketName, limits: limits)
    if arguments.hasQuotaInBytes { try RequestValidation.quota(arguments.quotaInBytes, what: "space") }
    if arguments.hasQuotaInNamespace { try RequestValidation.quota(arguments.quotaInNamespace, what: "namespace") }
    if arguments.hasOwner && arguments.owner.isEmpty {
      throw OMException(.invalidRequest, "the new owner name is empty")
    }
    if arguments.hasStorageType, !StorageType.allCases.contains(arguments.storageType) || arguments.storageType == .unspecified {
      throw OMException(.invalidRequest, "unknown storage type \(arguments.storageType.rawValue)")
    }
    let changes = [arguments.hasIsVersionEnabled, arguments.hasStorageType, arguments.hasOwner,
      arguments.hasQuotaInBytes, arguments.hasQuotaInNamespace]
    if !changes.contains(true) {
      throw OMException(.invalidRequest, "nothing to change")
    }
    var rewritten = request
    rewritten.setBucketPropertyRequest.modificationTime = context.nowMilliseconds
    return rewritten
  }

  static func apply(_ request: OMRequest, transaction: OMTransaction) throws -> OMResponse {
    let arguments = request.setBucketPropertyRequest
    guard let volume = try transaction.volume(arguments.volumeName) else {
      throw OMException(.volumeNotFound, "volume \(arguments.volumeName) not found")
    }
    guard var bucket = try transaction.bucket(arguments.volumeName, arguments.bucketName) else {
      throw OMException(.bucketNotFound, "bucket \(arguments.volumeName)/\(arguments.bucketName) not found")
    }
    if arguments.hasIsVersionEnabled { bucket.isVersionEnabled = arguments.isVersionEnabled }
    if arguments.hasStorageType { bucket.storageType = arguments.storageType }
    if arguments.hasOwner { bucket.owner = arguments.owner }
    if arguments.hasQuotaInNamespace {
      let quota = arguments.quotaInNamespace
      if quota > 0 && UInt64(quota) < bucket.usedNamespace {
        throw OMException(
          .quotaError, "bucket \(bucket.bucketName) holds \(bucket.usedNamespace) keys; a namespace quota of \(quota) is below that")
      }
      bucket.quotaInNamespace = quota
    }
    if arguments.hasQuotaInBytes {
      let quota = arguments.quotaInBytes
      if quota > 0 && UInt64(quota) < bucket.usedBytes {
        throw OMException(
          .quotaError, "bucket \(bucket.bucketName) uses \(bucket.usedBytes) bytes; a space quota of \(quota) is below that")
      }
      try BucketQuotas.checkFitsVolume(
        volume: volume, newQuota: quota, replacing: bucket.bucketName, transaction: transaction)
      bucket.quotaInBytes = quota
    }
    bucket.modificationTime = arguments.modificationTime
    bucket.updateID = transaction.index
    transaction.putBucket(bucket)
    return .success(.setBucketProperty, .setBucketPropertyResponse(SetBucketPropertyResponse()))
  }
}
