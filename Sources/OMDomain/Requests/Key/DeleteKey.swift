import OMProto

/// DeleteKey: removes a committed key; its record moves to deletedTable for block clean-up.
enum DeleteKey: OMWriteRequestHandler {
  static func preExecute(_ request: OMRequest, context: PreExecuteContext, limits: OMRequestLimits) throws(OMException)
    -> OMRequest
  {
    try RequestValidation.keyAddress(request.deleteKeyRequest.keyArgs, limits: limits)
    var rewritten = request
    rewritten.deleteKeyRequest.keyArgs.modificationTime = context.nowMilliseconds
    return rewritten
  }

  static func apply(_ request: OMRequest, transaction: OMTransaction) throws -> OMResponse {
    let arguments = request.deleteKeyRequest.keyArgs
    var bucket = try KeyRequestSupport.bucket(arguments.volumeName, arguments.bucketName, in: transaction)
    try remove(arguments.keyName, from: &bucket, transaction: transaction)
    transaction.putBucket(bucket)
    return .success(.deleteKey, .deleteKeyResponse(DeleteKeyResponse()))
  }

  /// Deletes one key and takes it off the bucket's usage (the caller writes the bucket back).
  static func remove(_ name: String, from bucket: inout BucketInfo, transaction: OMTransaction) throws {
    guard let key = try transaction.key(bucket.volumeName, bucket.bucketName, name) else {
      throw OMException(.keyNotFound, "key \(name) not found in \(bucket.volumeName)/\(bucket.bucketName)")
    }
    transaction.deleteKey(bucket.volumeName, bucket.bucketName, name)
    transaction.addDeletedKey(key)
    bucket.usedBytes -= min(bucket.usedBytes, try KeyRequestSupport.replicatedBytes(key))
    bucket.usedNamespace -= min(bucket.usedNamespace, 1)
    bucket.updateID = transaction.index
  }
}
