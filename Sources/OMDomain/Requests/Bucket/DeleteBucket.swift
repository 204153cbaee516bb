import OMProto

/// DeleteBucket: only a bucket without keys can be deleted.
enum DeleteBucket: OMWriteRequestHandler {
  static func preExecute(_ request: OMRequest, context: PreExecuteContext, limits: OMRequestLimits) throws(OMException)
    -> OMRequest
  {
    let arguments = request.deleteBucketRequest
    try RequestValidation.bucketAddress(arguments.volumeName, arguments.bucketName, limits: limits)
    return request
  }

  static func apply(_ request: OMRequest, transaction: OMTransaction) throws -> OMResponse {
    let arguments = request.deleteBucketRequest
    guard var volume = try transaction.volume(arguments.volumeName) else {
      throw OMException(.volumeNotFound, "volume \(arguments.volumeName) not found")
    }
    guard try transaction.bucket(arguments.volumeName, arguments.bucketName) != nil else {
      throw OMException(.bucketNotFound, "bucket \(arguments.volumeName)/\(arguments.bucketName) not found")
    }
    if try transaction.hasKeys(arguments.volumeName, arguments.bucketName) {
      throw OMException(
        .bucketNotEmpty, "bucket \(arguments.volumeName)/\(arguments.bucketName) is not empty: delete its keys first")
    }
    volume.usedNamespace -= 1
    volume.updateID = transaction.index
    transaction.putVolume(volume)
    transaction.deleteBucket(arguments.volumeName, arguments.bucketName)
    return .success(.deleteBucket, .deleteBucketResponse(DeleteBucketResponse()))
  }
}
