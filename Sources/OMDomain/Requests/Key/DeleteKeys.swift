import OMProto

/// DeleteKeys: deletes many keys of one bucket; the ones that cannot be deleted are reported
/// with their reason and the status is PARTIAL_DELETE, as in Ozone.
enum DeleteKeys: OMWriteRequestHandler {
  static func preExecute(_ request: OMRequest, context: PreExecuteContext, limits: OMRequestLimits) throws(OMException)
    -> OMRequest
  {
    let arguments = request.deleteKeysRequest
    try RequestValidation.bucketAddress(arguments.volumeName, arguments.bucketName, limits: limits)
    if arguments.keys.isEmpty { throw OMException(.invalidRequest, "no keys to delete") }
    if arguments.keys.count > limits.deleteKeysMaxCount {
      throw OMException(
        .invalidRequest, "\(arguments.keys.count) keys in one request; the limit is \(limits.deleteKeysMaxCount)")
    }
    for key in arguments.keys { try RequestValidation.keyName(key, limits: limits) }
    var rewritten = request
    rewritten.deleteKeysRequest.modificationTime = context.nowMilliseconds
    return rewritten
  }

  static func apply(_ request: OMRequest, transaction: OMTransaction) throws -> OMResponse {
    let arguments = request.deleteKeysRequest
    var bucket = try KeyRequestSupport.bucket(arguments.volumeName, arguments.bucketName, in: transaction)
    var response = DeleteKeysResponse()
    for name in arguments.keys {
      do {
        try DeleteKey.remove(name, from: &bucket, transaction: transaction)
        response.deletedKeys.append(name)
      } catch let error as OMException {
        var failure = KeyValue()
        failure.key = name
        failure.value = error.description
        response.unDeletedKeys.append(failure)
      }
    }
    if !response.deletedKeys.isEmpty { transaction.putBucket(bucket) }
    var result = OMResponse.success(.deleteKeys, .deleteKeysResponse(response))
    if !response.unDeletedKeys.isEmpty {
      result.status = .partialDelete
      result.message = "\(response.unDeletedKeys.count) of \(arguments.keys.count) keys were not deleted"
    }
    return result
  }
}
