import OMMetadata
import OMProto

/// InfoBucket: one bucket's properties and usage.
enum InfoBucket: OMReadRequestHandler {
  static func validate(_ request: OMRequest, limits: OMRequestLimits) throws(OMException) {
    let arguments = request.infoBucketRequest
    try RequestValidation.bucketAddress(arguments.volumeName, arguments.bucketName, limits: limits)
  }

  static func read(_ request: OMRequest, store: OMMetadataStore, limits: OMRequestLimits) throws -> OMResponse {
    let arguments = request.infoBucketRequest
    guard let bucket = try store.bucketTable.get(OMKeys.bucket(arguments.volumeName, arguments.bucketName)) else {
      if try store.volumeTable.get(OMKeys.volume(arguments.volumeName)) == nil {
        throw OMException(.volumeNotFound, "volume \(arguments.volumeName) not found")
      }
      throw OMException(.bucketNotFound, "bucket \(arguments.volumeName)/\(arguments.bucketName) not found")
    }
    var response = InfoBucketResponse()
    response.bucketInfo = bucket
    return .success(.infoBucket, .infoBucketResponse(response))
  }
}
