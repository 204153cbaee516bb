import OMProto

/// RenameKey: moves a committed key to a new name in the same bucket.
enum RenameKey: OMWriteRequestHandler {
  static func preExecute(_ request: OMRequest, context: PreExecuteContext, limits: OMRequestLimits) throws(OMException)
    -> OMRequest
  {
    let arguments = request.renameKeyRequest
    try RequestValidation.keyAddress(arguments.keyArgs, limits: limits)
    try RequestValidation.keyName(arguments.toKeyName, limits: limits)
    var rewritten = request
    rewritten.renameKeyRequest.keyArgs.modificationTime = context.nowMilliseconds
    return rewritten
  }

  static func apply(_ request: OMRequest, transaction: OMTransaction) throws -> OMResponse {
    let arguments = request.renameKeyRequest.keyArgs
    let toName = request.renameKeyRequest.toKeyName
    _ = try KeyRequestSupport.bucket(arguments.volumeName, arguments.bucketName, in: transaction)
    guard var key = try transaction.key(arguments.volumeName, arguments.bucketName, arguments.keyName) else {
      throw OMException(.keyNotFound, "key \(arguments.keyName) not found in \(arguments.volumeName)/\(arguments.bucketName)")
    }
    if try transaction.key(arguments.volumeName, arguments.bucketName, toName) != nil {
      throw OMException(.keyAlreadyExists, "key \(toName) already exists in \(arguments.volumeName)/\(arguments.bucketName)")
    }
    transaction.deleteKey(arguments.volumeName, arguments.bucketName, arguments.keyName)
    key.keyName = toName
    key.modificationTime = arguments.modificationTime
    key.updateID = transaction.index
    transaction.putKey(key)
    return .success(.renameKey, .renameKeyResponse(RenameKeyResponse()))
  }
}
