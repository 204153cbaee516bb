import OMProto

/// CommitKey: closes an open-key session and makes the key visible. A version it overwrites goes
/// to deletedTable (its blocks are garbage once a data plane exists); bucket usage follows.
enum CommitKey: OMWriteRequestHandler {
  static func preExecute(_ request: OMRequest, context: PreExecuteContext, limits: OMRequestLimits) throws(OMException)
    -> OMRequest
  {
    try RequestValidation.keyAddress(request.commitKeyRequest.keyArgs, limits: limits)
    try KeyRequestSupport.checkDataSize(request.commitKeyRequest.keyArgs)
    var rewritten = request
    rewritten.commitKeyRequest.keyArgs.modificationTime = context.nowMilliseconds
    return rewritten
  }

  static func apply(_ request: OMRequest, transaction: OMTransaction) throws -> OMResponse {
    let arguments = request.commitKeyRequest.keyArgs
    let clientID = request.commitKeyRequest.clientID
    var bucket = try KeyRequestSupport.bucket(arguments.volumeName, arguments.bucketName, in: transaction)
    guard
      var key = try transaction.openKey(arguments.volumeName, arguments.bucketName, arguments.keyName, clientID: clientID)
    else {
      throw OMException(.keyNotFound, "no open key \(arguments.keyName) with session \(clientID)")
    }
    key.dataSize = arguments.dataSize
    key.modificationTime = arguments.modificationTime
    key.updateID = transaction.index
    key.clientID = 0
    let previous = try transaction.key(arguments.volumeName, arguments.bucketName, arguments.keyName)
    let addedBytes = try KeyRequestSupport.replicatedBytes(key)
    let removedBytes = try previous.map(KeyRequestSupport.replicatedBytes) ?? 0
    let (usedAfter, overflow) = (bucket.usedBytes - min(bucket.usedBytes, removedBytes)).addingReportingOverflow(addedBytes)
    if overflow {
      throw OMException(.quotaExceeded, "bucket \(bucket.bucketName) cannot count \(addedBytes) more bytes")
    }
    if bucket.quotaInBytes > 0 && addedBytes > removedBytes && usedAfter > UInt64(bucket.quotaInBytes) {
      throw OMException(
        .quotaExceeded,
        "committing \(addedBytes) replicated bytes would bring bucket \(bucket.bucketName) to \(usedAfter) bytes, over its quota of \(bucket.quotaInBytes)"
      )
    }
    if previous == nil && bucket.quotaInNamespace > 0 && bucket.usedNamespace + 1 > UInt64(bucket.quotaInNamespace) {
      throw OMException(
        .quotaExceeded, "bucket \(bucket.bucketName) already holds \(bucket.usedNamespace) keys, its namespace quota")
    }
    if let previous {
      transaction.addDeletedKey(previous)
    } else {
      bucket.usedNamespace += 1
    }
    bucket.usedBytes = usedAfter
    bucket.updateID = transaction.index
    transaction.putBucket(bucket)
    transaction.deleteOpenKey(arguments.volumeName, arguments.bucketName, arguments.keyName, clientID: clientID)
    transaction.putKey(key)
    return .success(.commitKey, .commitKeyResponse(CommitKeyResponse()))
  }
}
