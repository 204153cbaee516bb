import OMProto

/// CreateKey: opens a key for writing (an openKeyTable row under a fresh session id). The key
/// becomes visible only when CommitKey closes the session.
enum CreateKey: OMWriteRequestHandler {
  static func preExecute(_ request: OMRequest, context: PreExecuteContext, limits: OMRequestLimits) throws(OMException)
    -> OMRequest
  {
    var arguments = request.createKeyRequest.keyArgs
    try RequestValidation.keyAddress(arguments, limits: limits)
    try RequestValidation.metadata(arguments.metadata, limits: limits)
    try KeyRequestSupport.normalizeReplication(&arguments)
    try KeyRequestSupport.checkDataSize(arguments)
    arguments.modificationTime = context.nowMilliseconds
    var rewritten = request
    rewritten.createKeyRequest.keyArgs = arguments
    rewritten.createKeyRequest.clientID = context.randomID()
    return rewritten
  }

  static func apply(_ request: OMRequest, transaction: OMTransaction) throws -> OMResponse {
    let arguments = request.createKeyRequest.keyArgs
    let bucket = try KeyRequestSupport.bucket(arguments.volumeName, arguments.bucketName, in: transaction)
    let exists = try transaction.key(arguments.volumeName, arguments.bucketName, arguments.keyName) != nil
    if !exists && bucket.quotaInNamespace > 0 && bucket.usedNamespace + 1 > UInt64(bucket.quotaInNamespace) {
      throw OMException(
        .quotaExceeded, "bucket \(bucket.bucketName) already holds \(bucket.usedNamespace) keys, its namespace quota")
    }
    var info = KeyInfo()
    info.volumeName = arguments.volumeName
    info.bucketName = arguments.bucketName
    info.keyName = arguments.keyName
    info.dataSize = arguments.dataSize
    info.replicationType = arguments.replicationType
    info.replicationFactor = arguments.replicationFactor
    info.metadata = arguments.metadata
    info.creationTime = arguments.modificationTime
    info.modificationTime = arguments.modificationTime
    info.objectID = transaction.objectID()
    info.updateID = transaction.index
    info.clientID = request.createKeyRequest.clientID
    transaction.putOpenKey(info)
    var response = CreateKeyResponse()
    response.keyInfo = info
    response.clientID = info.clientID
    return .success(.createKey, .createKeyResponse(response))
  }
}
