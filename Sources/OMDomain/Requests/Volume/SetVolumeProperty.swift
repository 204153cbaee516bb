import OMProto

/// SetVolumeProperty: owner and quotas (`volume update`, `setquota`, `clrquota`).
enum SetVolumeProperty: OMWriteRequestHandler {
  static func preExecute(_ request: OMRequest, context: PreExecuteContext, limits: OMRequestLimits) throws(OMException)
    -> OMRequest
  {
    let arguments = request.setVolumePropertyRequest
    try RequestValidation.volumeName(arguments.volumeName, limits: limits)
    if arguments.hasQuotaInBytes { try RequestValidation.quota(arguments.quotaInBytes, what: "space") }
    if arguments.hasQuotaInNamespace { try RequestValidation.quota(arguments.quotaInNamespace, what: "namespace") }
    if arguments.hasOwnerName && arguments.ownerName.isEmpty {
      throw OMException(.invalidRequest, "the new owner name is empty")
    }
    if !arguments.hasOwnerName && !arguments.hasQuotaInBytes && !arguments.hasQuotaInNamespace {
      throw OMException(.invalidRequest, "nothing to change: give an owner or a quota")
    }
    var rewritten = request
    rewritten.setVolumePropertyRequest.modificationTime = context.nowMilliseconds
    return rewritten
  }

  static func apply(_ request: OMRequest, transaction: OMTransaction) throws -> OMResponse {
    let arguments = request.setVolumePropertyRequest
    guard var volume = try transaction.volume(arguments.volumeName) else {
      throw OMException(.volumeNotFound, "volume \(arguments.volumeName) not found")
    }
    if arguments.hasOwnerName { volume.ownerName = arguments.ownerName }
    if arguments.hasQuotaInNamespace {
      let quota = arguments.quotaInNamespace
      if quota > 0 && UInt64(quota) < volume.usedNamespace {
        throw OMException(
          .quotaExceeded,
          "volume \(volume.volume) has \(volume.usedNamespace) buckets; a namespace quota of \(quota) is below that")
      }
      volume.quotaInNamespace = quota
    }
    if arguments.hasQuotaInBytes {
      let quota = arguments.quotaInBytes
      if quota > 0 {
        let buckets = try transaction.buckets(of: volume.volume)
        if let unbounded = buckets.first(where: { $0.quotaInBytes <= 0 }) {
          throw OMException(
            .quotaError,
            "bucket \(unbounded.bucketName) of volume \(volume.volume) has no space quota; set one on every bucket first")
        }
        let total = try BucketQuotas.sum(buckets.map(\.quotaInBytes))
        if total.map({ $0 > quota }) ?? true {
          throw OMException(
            .quotaExceeded,
            "the buckets of volume \(volume.volume) have space quotas adding up to more than \(quota) bytes")
        }
      }
      volume.quotaInBytes = quota
    }
    volume.modificationTime = arguments.modificationTime
    volume.updateID = transaction.index
    transaction.putVolume(volume)
    return .success(.setVolumeProperty, .setVolumePropertyResponse(SetVolumePropertyResponse()))
  }
}
