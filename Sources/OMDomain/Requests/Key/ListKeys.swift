import OMMetadata
import OMProto

/// ListKeys: a bucket's committed keys by name, after `startKey`, at most one page.
enum ListKeys: OMReadRequestHandler {
  static func validate(_ request: OMRequest, limits: OMRequestLimits) throws(OMException) {
    let arguments = request.listKeysRequest
    try RequestValidation.bucketAddress(arguments.volumeName, arguments.bucketName, limits: limits)
  }

  static func read(_ request: OMRequest, store: OMMetadataStore, limits: OMRequestLimits) throws -> OMResponse {
    let arguments = request.listKeysRequest
    try KeyReads.requireBucket(arguments.volumeName, arguments.bucketName, store: store)
    let page = try store.keyTable.list(
      prefix: OMKeys.key(arguments.volumeName, arguments.bucketName, arguments.prefix),
      startAfter: arguments.startKey.isEmpty
        ? nil : OMKeys.key(arguments.volumeName, arguments.bucketName, arguments.startKey),
      limit: RequestValidation.pageSize(arguments.count, limits: limits))
    var response = ListKeysResponse()
    response.keyInfo = page.rows.map(\.value)
    response.isTruncated = page.isTruncated
    return .success(.listKeys, .listKeysResponse(response))
  }
}
