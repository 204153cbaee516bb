import OMMetadata
import OMProto

/// LookupKey: one committed key.
enum LookupKey: OMReadRequestHandler {
  static func validate(_ request: OMRequest, limits: OMRequestLimits) throws(OMException) {
    try RequestValidation.keyAddress(request.lookupKeyRequest.keyArgs, limits: limits)
  }

  static func read(_ request: OMRequest, store: OMMetadataStore, limits: OMRequestLimits) throws -> OMResponse {
    let arguments = request.lookupKeyRequest.keyArgs
    guard let key = try store.keyTable.get(OMKeys.key(arguments.volumeName, arguments.bucketName, arguments.keyName))
    else {
      try KeyReads.requireBucket(arguments.volumeName, arguments.bucketName, store: store)
      throw OMException(.keyNotFound, "key \(arguments.volumeName)/\(arguments.bucketName)/\(arguments.keyName) not found")
    }
    var response = LookupKeyResponse()
    response.keyInfo = key
    return .success(.lookupKey, .lookupKeyResponse(response))
  }
}

/// Checks shared by the key reads.
enum KeyReads {
  static func requireBucket(_ volume: String, _ bucket: String, store: OMMetadataStore) throws {
    if try store.bucketTable.get(OMKeys.bucket(volume, bucket)) != nil { return }
    if try store.volumeTable.get(OMKeys.volume(volume)) == nil {
      throw OMException(.volumeNotFound, "volume \(volume) not found")
    }
    throw OMException(.bucketNotFound, "bucket \(volume)/\(bucket) not found")
  }
}
