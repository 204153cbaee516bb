import OMProto

/// Fuzzed `om.submitRequest` payloads: valid requests from `OMRequestCorpus`, mutated in their
/// meaning (wrong command for the body, names and sizes past every limit) and on the wire
/// (`ProtobufMutator`, `ByteMutator`). Some mutants are still valid requests; the oracle tells.
enum OMRequestMutator {
  /// Names that break a rule each: too short, too long, upper case, IP-like, leading or
  /// doubled punctuation, NUL, control and non-ASCII characters, path tricks, a huge one.
  static let badNames: [String] = [
    "", "a", "ab", String(repeating: "v", count: 64), "Vol1", "vol_1", "1.2.3.4", "-vol", "vol.", "v..l", "v-.l",
    "vol\u{0}x", "vol\n1", "völ", "e\u{301}vol", "../vol", "vol/bkt", " vol", "vol ", "\u{202E}lov",
    String(repeating: "z", count: 5_000),
  ]
  /// Key names on the edges: empty, exactly at and over 4096 bytes, NUL, multi-byte at the limit.
  static let edgeKeyNames: [String] = [
    "", String(repeating: "k", count: 4_096), String(repeating: "k", count: 4_097),
    String(repeating: "é", count: 2_048), String(repeating: "é", count: 2_049), "k\u{0}", "/", "//", ".", "..",
    "a/../b", "\u{FEFF}k", String(repeating: "k", count: 60_000),
  ]
  static let edgeQuotas: [Int64] = [0, -2, -1, 1, Int64.min, Int64.max, Int64(Int32.max) + 1]

  /// A payload and what was done to it (for failure messages).
  struct Payload {
    var bytes: [UInt8]
    var mutation: String
  }

  static func payload(random: inout FuzzRandom) -> Payload {
    var request = OMRequestCorpus.request(random: &random)
    switch random.int(0...9) {
    case 0:
      return Payload(bytes: try! request.serializedBytes(), mutation: "none")
    case 1, 2, 3:
      let what = mutateMeaning(&request, random: &random)
      return Payload(bytes: try! request.serializedBytes(), mutation: what)
    case 4, 5, 6:
      let bytes = ProtobufMutator.mutate(try! request.serializedBytes(), random: &random)
      return Payload(bytes: bytes, mutation: "wire")
    case 7:
      let what = mutateMeaning(&request, random: &random)
      return Payload(bytes: ProtobufMutator.mutate(try! request.serializedBytes(), random: &random), mutation: what + "+wire")
    case 8:
      let donor: [UInt8] = try! OMRequestCorpus.request(random: &random).serializedBytes()
      return Payload(bytes: ByteMutator.mutate(try! request.serializedBytes(), donors: [donor], random: &random), mutation: "bytes")
    default:
      return Payload(bytes: random.bytes(random.int(0...64)), mutation: "random")
    }
  }

  /// Breaks the request's meaning while keeping it a well-formed message; returns what it did.
  static func mutateMeaning(_ request: inout OMRequest, random: inout FuzzRandom) -> String {
    switch random.int(0...9) {
    case 0:
      request.cmdType = CommandType(rawValue: random.pick([0, 1, 13, 99, 9_999, -1, Int(Int32.max)]))!
      return "cmdType=\(request.cmdType.rawValue)"
    case 1:
      request.body = OMRequestCorpus.request(random: &random).body
      return "body of another command"
    case 2:
      request.body = nil
      return "no body"
    case 3:
      return renameThings(&request, random: &random)
    case 4:
      return breakNumbers(&request, random: &random)
    case 5:
      return breakMetadata(&request, random: &random)
    case 6:
      return breakKeyList(&request, random: &random)
    case 7:
      request.readConsistencyHint = ReadConsistencyHint(rawValue: random.pick([1, 3, 77, -5]))!
      return "readConsistencyHint=\(request.readConsistencyHint.rawValue)"
    case 8:
      request.userInfo.userName = random.pick(["", String(repeating: "u", count: 70_000), "root\u{0}", "ünïcode"])
      request.traceID = random.pick(["", String(repeating: "t", count: 10_000)])
      return "user and trace"
    default:
      request.clientID = random.pick(["", String(repeating: "c", count: 5_000)])
      return "clientId of \(request.clientID.utf8.count) bytes"
    }
  }

  private static func renameThings(_ request: inout OMRequest, random: inout FuzzRandom) -> String {
    let name = random.pick(badNames)
    let key = random.pick(edgeKeyNames)
    switch request.body {
    case .createVolumeRequest(var body)?:
      body.volumeInfo.volume = name
      request.body = .createVolumeRequest(body)
    case .createBucketRequest(var body)?:
      if random.chance(1, in: 2) { body.bucketInfo.bucketName = name } else { body.bucketInfo.volumeName = name }
      request.body = .createBucketRequest(body)
    case .createKeyRequest(var body)?:
      body.keyArgs.keyName = key
      request.body = .createKeyRequest(body)
    case .renameKeyRequest(var body)?:
      body.toKeyName = key
      request.body = .renameKeyRequest(body)
    case .lookupKeyRequest(var body)?:
      body.keyArgs.keyName = key
      request.body = .lookupKeyRequest(body)
    case .deleteKeysRequest(var body)?:
      body.bucketName = name
      request.body = .deleteKeysRequest(body)
    default:
      request = OMRequestCorpus.createVolume(name, random: &random)
    }
    return "names \(name.prefix(12).debugDescription)/\(key.prefix(12).debugDescription)"
  }

  private static func breakNumbers(_ request: inout OMRequest, random: inout FuzzRandom) -> String {
    let quota = random.pick(edgeQuotas)
    switch request.body {
    case .createVolumeRequest(var body)?:
      body.volumeInfo.quotaInBytes = quota
      body.volumeInfo.quotaInNamespace = random.pick(edgeQuotas)
      body.volumeInfo.usedNamespace = UInt64.max
      request.body = .createVolumeRequest(body)
    case .setBucketPropertyRequest(var body)?:
      body.quotaInBytes = quota
      body.quotaInNamespace = random.pick(edgeQuotas)
      request.body = .setBucketPropertyRequest(body)
    case .createKeyRequest(var body)?:
      body.keyArgs.dataSize = random.pick([0, UInt64.max, UInt64(Int64.max), UInt64(Int64.max) + 1])
      body.keyArgs.replicationFactor = random.pick([0, 2, UInt32.max])
      body.keyArgs.replicationType = ReplicationType(rawValue: random.pick([0, 3, 42]))!
      request.body = .createKeyRequest(body)
    case .listKeysRequest(var body)?:
      body.count = UInt32.max
      body.startKey = random.pick(edgeKeyNames)
      request.body = .listKeysRequest(body)
    default:
      var body = SetVolumePropertyRequest()
      body.volumeName = OMRequestCorpus.seedVolume
      body.quotaInBytes = quota
      body.quotaInNamespace = random.pick(edgeQuotas)
      request = OMRequestCorpus.envelope(.setVolumeProperty, .setVolumePropertyRequest(body), random: &random)
    }
    return "quota \(quota) and other numbers"
  }

  private static func breakMetadata(_ request: inout OMRequest, random: inout FuzzRandom) -> String {
    let count = random.pick([1, 128, 129, 1_000])
    let valueBytes = random.pick([1, 4_096, 4_097])
    var pair = KeyValue()
    pair.value = String(repeating: "m", count: valueBytes)
    let pairs: [KeyValue] = (0..<count).map { index in
      var entry = pair
      entry.key = random.chance(1, in: 4) ? "same" : "m\(index)"
      return entry
    }
    var body = CreateBucketRequest()
    body.bucketInfo.volumeName = OMRequestCorpus.seedVolume
    body.bucketInfo.bucketName = random.pick(OMRequestCorpus.buckets)
    body.bucketInfo.quotaInBytes = -1
    body.bucketInfo.quotaInNamespace = -1
    body.bucketInfo.metadata = pairs
    request = OMRequestCorpus.envelope(.createBucket, .createBucketRequest(body), random: &random)
    return "\(count) metadata entries of \(valueBytes) bytes"
  }

  private static func breakKeyList(_ request: inout OMRequest, random: inout FuzzRandom) -> String {
    let count = random.pick([0, 1, 1_000, 1_001, 3_000])
    var body = DeleteKeysRequest()
    body.volumeName = OMRequestCorpus.seedVolume
    body.bucketName = OMRequestCorpus.seedBucket
    body.keys = (0..<count).map { random.chance(1, in: 8) ? random.pick(edgeKeyNames) : "fz/k\($0 % 3)" }
    request = OMRequestCorpus.envelope(.deleteKeys, .deleteKeysRequest(body), random: &random)
    return "deleteKeys of \(count) keys"
  }
}
