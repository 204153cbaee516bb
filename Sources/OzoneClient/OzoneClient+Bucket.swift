import OMProto

extension OzoneClient {
  /// Creates a bucket with the given properties (owner, quotas, versioning, storage type).
  public func createBucket(_ info: BucketInfo) async throws {
    var request = CreateBucketRequest()
    request.bucketInfo = info
    try await call(.createBucket, .createBucketRequest(request))
  }

  public func bucketInfo(_ volume: String, _ bucket: String) async throws -> BucketInfo {
    var request = InfoBucketRequest()
    request.volumeName = volume
    request.bucketName = bucket
    return try await call(.infoBucket, .infoBucketRequest(request)).infoBucketResponse.bucketInfo
  }

  public func setBucketProperty(_ request: SetBucketPropertyRequest) async throws {
    try await call(.setBucketProperty, .setBucketPropertyRequest(request))
  }

  public func deleteBucket(_ volume: String, _ bucket: String) async throws {
    var request = DeleteBucketRequest()
    request.volumeName = volume
    request.bucketName = bucket
    try await call(.deleteBucket, .deleteBucketRequest(request))
  }

  public func listBuckets(_ volume: String, prefix: String = "", startAfter: String = "", count: UInt32 = 0)
    async throws -> (buckets: [BucketInfo], isTruncated: Bool)
  {
    var request = ListBucketsRequest()
    request.volumeName = volume
    request.prefix = prefix
    request.startKey = startAfter
    request.count = count
    let response = try await call(.listBuckets, .listBucketsRequest(request)).listBucketsResponse
    return (response.bucketInfo, response.isTruncated)
  }
}
