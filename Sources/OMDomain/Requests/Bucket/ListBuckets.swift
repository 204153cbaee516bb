import OMMetadata
import OMProto

/// ListBuckets: a volume's buckets by name, after `startKey`, at most one page.
enum ListBuckets: OMReadRequestHandler {
  static func validate(_ request: OMRequest, limits: OMRequestLimits) throws(OMException) {
    try RequestValidation.volumeName(request.listBucketsRequest.volumeName, limits: limits)
  }

  static func read(_ request: OMRequest, store: OMMetadataStore, limits: OMRequestLimits) throws -> OMResponse {
    let arguments = request.listBucketsRequest
    guard try store.volumeTable.get(OMKeys.volume(arguments.volumeName)) != nil else {
      throw OMException(.volumeNotFound, "volume \(arguments.volumeName) not found")
    }
    let page = try store.bucketTable.list(
      prefix: OMKeys.bucket(arguments.volumeName, arguments.prefix),
      startAfter: arguments.startKey.isEmpty ? nil : OMKeys.bucket(arguments.volumeName, arguments.startKey),
      limit: RequestValidation.pageSize(arguments.count, limits: limits))
    var response = ListBucketsResponse()
    response.bucketInfo = page.rows.map(\.value)
    response.isTruncated = page.isTruncated
    return .success(.listBuckets, .listBucketsResponse(response))
  }
}
