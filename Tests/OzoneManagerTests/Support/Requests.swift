import OMProto

/// Builds client requests as an OzoneClient would send them (before preExecute).
enum Requests {
  static func envelope(_ cmdType: CommandType, _ body: OMRequest.OneOf_Body) -> OMRequest {
    var request = OMRequest()
    request.cmdType = cmdType
    request.clientID = "test-client"
    request.callID = 1
    request.body = body
    return request
  }

  // MARK: volumes

  static func createVolume(
    _ name: String, owner: String = "", quotaInBytes: Int64 = -1, quotaInNamespace: Int64 = -1,
    metadata: [KeyValue] = []
  ) -> OMRequest {
    var info = VolumeInfo()
    info.volume = name
    info.ownerName = owner
    info.quotaInBytes = quotaInBytes
    info.quotaInNamespace = quotaInNamespace
    info.metadata = metadata
    var body = CreateVolumeRequest()
    body.volumeInfo = info
    return envelope(.createVolume, .createVolumeRequest(body))
  }

  static func infoVolume(_ name: String) -> OMRequest {
    var body = InfoVolumeRequest()
    body.volumeName = name
    return envelope(.infoVolume, .infoVolumeRequest(body))
  }

  static func setVolumeProperty(
    _ name: String, owner: String? = nil, quotaInBytes: Int64? = nil, quotaInNamespace: Int64? = nil
  ) -> OMRequest {
    var body = SetVolumePropertyRequest()
    body.volumeName = name
    if let owner { body.ownerName = owner }
    if let quotaInBytes { body.quotaInBytes = quotaInBytes }
    if let quotaInNamespace { body.quotaInNamespace = quotaInNamespace }
    return envelope(.setVolumeProperty, .setVolumePropertyRequest(body))
  }

  static func deleteVolume(_ name: String) -> OMRequest {
    var body = DeleteVolumeRequest()
    body.volumeName = name
    return envelope(.deleteVolume, .deleteVolumeRequest(body))
  }

  static func listVolumes(
    user: String? = nil, prefix: String = "", startAfter: String = "", maxKeys: UInt32 = 0
  ) -> OMRequest {
    var body = ListVolumeRequest()
    body.scope = user == nil ? .volumesByCluster : .volumesByUser
    body.userName = user ?? ""
    body.prefix = prefix
    body.prevKey = startAfter
    body.maxKeys = maxKeys
    return envelope(.listVolume, .listVolumeRequest(body))
  }

  // MARK: buckets

  static func bucketInfo(
    _ volume: String, _ bucket: String, quotaInBytes: Int64 = -1, quotaInNamespace: Int64 = -1
  ) -> BucketInfo {
    var info = BucketInfo()
    info.volumeName = volume
    info.bucketName = bucket
    info.quotaInBytes = quotaInBytes
    info.quotaInNamespace = quotaInNamespace
    return info
  }

  static func createBucket(_ info: BucketInfo) -> OMRequest {
    var body = CreateBucketRequest()
    body.bucketInfo = info
    return envelope(.createBucket, .createBucketRequest(body))
  }

  static func createBucket(
    _ volume: String, _ bucket: String, quotaInBytes: Int64 = -1, quotaInNamespace: Int64 = -1
  ) -> OMRequest {
    createBucket(bucketInfo(volume, bucket, quotaInBytes: quotaInBytes, quotaInNamespace: quotaInNamespace))
  }

  static func infoBucket(_ volume: String, _ bucket: String) -> OMRequest {
    var body = InfoBucketRequest()
    body.volumeName = volume
    body.bucketName = bucket
    return envelope(.infoBucket, .infoBucketRequest(body))
  }

  static func setBucketProperty(_ body: SetBucketPropertyRequest) -> OMRequest {
    envelope(.setBucketProperty, .setBucketPropertyRequest(body))
  }

  static func bucketProperties(_ volume: String, _ bucket: String) -> SetBucketPropertyRequest {
    var body = SetBucketPropertyRequest()
    body.volumeName = volume
    body.bucketName = bucket
    return body
  }

  static func deleteBucket(_ volume: String, _ bucket: String) -> OMRequest {
    var body = DeleteBucketRequest()
    body.volumeName = volume
    body.bucketName = bucket
    return envelope(.deleteBucket, .deleteBucketRequest(body))
  }

  static func listBuckets(_ volume: String, prefix: String = "", startAfter: String = "", count: UInt32 = 0)
    -> OMRequest
  {
    var body = ListBucketsRequest()
    body.volumeName = volume
    body.prefix = prefix
    body.startKey = startAfter
    body.count = count
    return envelope(.listBuckets, .listBucketsRequest(body))
  }

  // MARK: keys

  static func keyArgs(
    _ volume: String, _ bucket: String, _ key: String, dataSize: UInt64 = 0, factor: UInt32 = 0,
    type: ReplicationType = .unspecified
  ) -> KeyArgs {
    var arguments = KeyArgs()
    arguments.volumeName = volume
    arguments.bucketName = bucket
    arguments.keyName = key
    arguments.dataSize = dataSize
    arguments.replicationFactor = factor
    arguments.replicationType = type
    return arguments
  }

  static func createKey(_ arguments: KeyArgs) -> OMRequest {
    var body = CreateKeyRequest()
    body.keyArgs = arguments
    return envelope(.createKey, .createKeyRequest(body))
  }

  static func createKey(_ volume: String, _ bucket: String, _ key: String, dataSize: UInt64 = 0, factor: UInt32 = 0)
    -> OMRequest
  {
    createKey(keyArgs(volume, bucket, key, dataSize: dataSize, factor: factor))
  }

  static func allocateBlock(_ volume: String, _ bucket: String, _ key: String, session: UInt64) -> OMRequest {
    var body = AllocateBlockRequest()
    body.keyArgs = keyArgs(volume, bucket, key)
    body.clientID = session
    return envelope(.allocateBlock, .allocateBlockRequest(body))
  }

  static func commitKey(_ volume: String, _ bucket: String, _ key: String, session: UInt64, dataSize: UInt64)
    -> OMRequest
  {
    var body = CommitKeyRequest()
    body.keyArgs = keyArgs(volume, bucket, key, dataSize: dataSize)
    body.clientID = session
    return envelope(.commitKey, .commitKeyRequest(body))
  }

  static func lookupKey(_ volume: String, _ bucket: String, _ key: String) -> OMRequest {
    var body = LookupKeyRequest()
    body.keyArgs = keyArgs(volume, bucket, key)
    return envelope(.lookupKey, .lookupKeyRequest(body))
  }

  static func renameKey(_ volume: String, _ bucket: String, from: String, to: String) -> OMRequest {
    var body = RenameKeyRequest()
    body.keyArgs = keyArgs(volume, bucket, from)
    body.toKeyName = to
    return envelope(.renameKey, .renameKeyRequest(body))
  }

  static func deleteKey(_ volume: String, _ bucket: String, _ key: String) -> OMRequest {
    var body = DeleteKeyRequest()
    body.keyArgs = keyArgs(volume, bucket, key)
    return envelope(.deleteKey, .deleteKeyRequest(body))
  }

  static func deleteKeys(_ volume: String, _ bucket: String, _ keys: [String]) -> OMRequest {
    var body = DeleteKeysRequest()
    body.volumeName = volume
    body.bucketName = bucket
    body.keys = keys
    return envelope(.deleteKeys, .deleteKeysRequest(body))
  }

  static func listKeys(_ volume: String, _ bucket: String, prefix: String = "", startAfter: String = "", count: UInt32 = 0)
    -> OMRequest
  {
    var body = ListKeysRequest()
    body.volumeName = volume
    body.bucketName = bucket
    body.prefix = prefix
    body.startKey = startAfter
    body.count = count
    return envelope(.listKeys, .listKeysRequest(body))
  }
}

extension KeyValue {
  init(_ key: String, _ value: String) {
    self.init()
    self.key = key
    self.value = value
  }
}
