import OMProto

/// Valid OM requests, one per command, naming a small pool of volumes, buckets and keys so that
/// the fuzzers' writes meet existing objects and the database stays small.
///
/// Every fuzzed OM starts with `seedVolume/seedBucket/seedKey`; the pools add names that
/// mutated creates and deletes come and go on.
enum OMRequestCorpus {
  static let seedVolume = "fuzzvol"
  static let seedBucket = "fuzzbucket"
  static let seedKey = "fuzzkey"
  static let volumes = [seedVolume, "fz-v1", "fz-v2", "fz-v3"]
  static let buckets = [seedBucket, "fz-b1", "fz-b2"]
  static let keys = [seedKey, "fz/k1", "fz/k2", "k3"]

  static func envelope(_ cmdType: CommandType, _ body: OMRequest.OneOf_Body, random: inout FuzzRandom) -> OMRequest {
    var request = OMRequest()
    request.cmdType = cmdType
    // A fresh client id per request: the retry cache must never answer a fuzzed request with
    // the reply of an earlier one.
    request.clientID = "fuzz-\(random.next())"
    request.callID = random.next() >> 1
    request.userInfo.userName = "fuzzer"
    request.body = body
    return request
  }

  /// A valid request of a random command.
  static func request(random: inout FuzzRandom) -> OMRequest {
    let volume = random.pick(volumes)
    let bucket = random.pick(buckets)
    switch random.int(0...6) {
    case 0: return createVolume(random.pick(volumes), random: &random)
    case 1: return volumeRequest(volume, random: &random)
    case 2: return createBucket(volume, bucket, random: &random)
    case 3: return bucketRequest(volume, bucket, random: &random)
    case 4: return keyRequest(keyArgs(volume, bucket, random.pick(keys)), random: &random)
    case 5: return listRequest(volume, bucket, random: &random)
    default: return deleteKeys(volume, bucket, random: &random)
    }
  }

  static func createVolume(_ name: String, random: inout FuzzRandom) -> OMRequest {
    var body = CreateVolumeRequest()
    body.volumeInfo.volume = name
    body.volumeInfo.ownerName = "fuzzer"
    body.volumeInfo.quotaInBytes = -1
    body.volumeInfo.quotaInNamespace = -1
    return envelope(.createVolume, .createVolumeRequest(body), random: &random)
  }

  static func createBucket(_ volume: String, _ bucket: String, random: inout FuzzRandom) -> OMRequest {
    var body = CreateBucketRequest()
    body.bucketInfo.volumeName = volume
    body.bucketInfo.bucketName = bucket
    body.bucketInfo.quotaInBytes = -1
    body.bucketInfo.quotaInNamespace = -1
    return envelope(.createBucket, .createBucketRequest(body), random: &random)
  }

  static func keyArgs(_ volume: String, _ bucket: String, _ key: String) -> KeyArgs {
    var arguments = KeyArgs()
    arguments.volumeName = volume
    arguments.bucketName = bucket
    arguments.keyName = key
    arguments.dataSize = 10
    arguments.replicationType = .ratis
    arguments.replicationFactor = 3
    return arguments
  }

  private static func volumeRequest(_ name: String, random: inout FuzzRandom) -> OMRequest {
    switch random.int(0...2) {
    case 0:
      var body = SetVolumePropertyRequest()
      body.volumeName = name
      body.quotaInNamespace = Int64(random.int(1...1_000))
      return envelope(.setVolumeProperty, .setVolumePropertyRequest(body), random: &random)
    case 1:
      var body = InfoVolumeRequest()
      body.volumeName = name
      return envelope(.infoVolume, .infoVolumeRequest(body), random: &random)
    default:
      var body = DeleteVolumeRequest()
      body.volumeName = name
      return envelope(.deleteVolume, .deleteVolumeRequest(body), random: &random)
    }
  }

  private static func bucketRequest(_ volume: String, _ bucket: String, random: inout FuzzRandom) -> OMRequest {
    switch random.int(0...2) {
    case 0:
      var body = SetBucketPropertyRequest()
      body.volumeName = volume
      body.bucketName = bucket
      body.isVersionEnabled = random.chance(1, in: 2)
      return envelope(.setBucketProperty, .setBucketPropertyRequest(body), random: &random)
    case 1:
      var body = InfoBucketRequest()
      body.volumeName = volume
      body.bucketName = bucket
      return envelope(.infoBucket, .infoBucketRequest(body), random: &random)
    default:
      var body = DeleteBucketRequest()
      body.volumeName = volume
      body.bucketName = bucket
      return envelope(.deleteBucket, .deleteBucketRequest(body), random: &random)
    }
  }

  private static func keyRequest(_ arguments: KeyArgs, random: inout FuzzRandom) -> OMRequest {
    switch random.int(0...5) {
    case 0:
      var body = CreateKeyRequest()
      body.keyArgs = arguments
      return envelope(.createKey, .createKeyRequest(body), random: &random)
    case 1:
      var body = CommitKeyRequest()
      body.keyArgs = arguments
      body.clientID = random.next()
      return envelope(.commitKey, .commitKeyRequest(body), random: &random)
    case 2:
      var body = AllocateBlockRequest()
      body.keyArgs = arguments
      body.clientID = random.next()
      return envelope(.allocateBlock, .allocateBlockRequest(body), random: &random)
    case 3:
      var body = LookupKeyRequest()
      body.keyArgs = arguments
      return envelope(.lookupKey, .lookupKeyRequest(body), random: &random)
    case 4:
      var body = RenameKeyRequest()
      body.keyArgs = arguments
      body.toKeyName = random.pick(keys)
      return envelope(.renameKey, .renameKeyRequest(body), random: &random)
    default:
      var body = DeleteKeyRequest()
      body.keyArgs = arguments
      return envelope(.deleteKey, .deleteKeyRequest(body), random: &random)
    }
  }

  private static func listRequest(_ volume: String, _ bucket: String, random: inout FuzzRandom) -> OMRequest {
    switch random.int(0...2) {
    case 0:
      var body = ListVolumeRequest()
      body.scope = .volumesByCluster
      body.maxKeys = 10
      return envelope(.listVolume, .listVolumeRequest(body), random: &random)
    case 1:
      var body = ListBucketsRequest()
      body.volumeName = volume
      body.count = 10
      return envelope(.listBuckets, .listBucketsRequest(body), random: &random)
    default:
      var body = ListKeysRequest()
      body.volumeName = volume
      body.bucketName = bucket
      body.prefix = "fz"
      body.count = 10
      return envelope(.listKeys, .listKeysRequest(body), random: &random)
    }
  }

  private static func deleteKeys(_ volume: String, _ bucket: String, random: inout FuzzRandom) -> OMRequest {
    var body = DeleteKeysRequest()
    body.volumeName = volume
    body.bucketName = bucket
    body.keys = [random.pick(keys), random.pick(keys)]
    return envelope(.deleteKeys, .deleteKeysRequest(body), random: &random)
  }
}
