import OMProto

extension OzoneClient {
  /// Opens a key for writing; returns the session id CommitKey needs.
  public func createKey(_ volume: String, _ bucket: String, _ key: String, dataSize: UInt64 = 0) async throws -> UInt64 {
    var request = CreateKeyRequest()
    request.keyArgs = Self.keyArgs(volume, bucket, key, dataSize: dataSize)
    return try await call(.createKey, .createKeyRequest(request)).createKeyResponse.clientID
  }

  /// Asks for a block; until a data plane exists the answer holds none and says why.
  public func allocateBlock(_ volume: String, _ bucket: String, _ key: String, session: UInt64) async throws
    -> AllocateBlockResponse
  {
    var request = AllocateBlockRequest()
    request.keyArgs = Self.keyArgs(volume, bucket, key)
    request.clientID = session
    return try await call(.allocateBlock, .allocateBlockRequest(request)).allocateBlockResponse
  }

  public func commitKey(_ volume: String, _ bucket: String, _ key: String, session: UInt64, dataSize: UInt64)
    async throws
  {
    var request = CommitKeyRequest()
    request.keyArgs = Self.keyArgs(volume, bucket, key, dataSize: dataSize)
    request.clientID = session
    try await call(.commitKey, .commitKeyRequest(request))
  }

  /// Creates and commits a key in two calls (metadata only: there is no data plane yet).
  public func putKey(_ volume: String, _ bucket: String, _ key: String, dataSize: UInt64 = 0) async throws {
    let session = try await createKey(volume, bucket, key, dataSize: dataSize)
    try await commitKey(volume, bucket, key, session: session, dataSize: dataSize)
  }

  public func keyInfo(_ volume: String, _ bucket: String, _ key: String) async throws -> KeyInfo {
    var request = LookupKeyRequest()
    request.keyArgs = Self.keyArgs(volume, bucket, key)
    return try await call(.lookupKey, .lookupKeyRequest(request)).lookupKeyResponse.keyInfo
  }

  public func listKeys(_ volume: String, _ bucket: String, prefix: String = "", startAfter: String = "", count: UInt32 = 0)
    async throws -> (keys: [KeyInfo], isTruncated: Bool)
  {
    var request = ListKeysRequest()
    request.volumeName = volume
    request.bucketName = bucket
    request.prefix = prefix
    request.startKey = startAfter
    request.count = count
    let response = try await call(.listKeys, .listKeysRequest(request)).listKeysResponse
    return (response.keyInfo, response.isTruncated)
  }

  public func renameKey(_ volume: String, _ bucket: String, from: String, to: String) async throws {
    var request = RenameKeyRequest()
    request.keyArgs = Self.keyArgs(volume, bucket, from)
    request.toKeyName = to
    try await call(.renameKey, .renameKeyRequest(request))
  }

  public func deleteKey(_ volume: String, _ bucket: String, _ key: String) async throws {
    var request = DeleteKeyRequest()
    request.keyArgs = Self.keyArgs(volume, bucket, key)
    try await call(.deleteKey, .deleteKeyRequest(request))
  }

  private static func keyArgs(_ volume: String, _ bucket: String, _ key: String, dataSize: UInt64 = 0) -> KeyArgs {
    var arguments = KeyArgs()
    arguments.volumeName = volume
    arguments.bucketName = bucket
    arguments.keyName = key
    arguments.dataSize = dataSize
    return arguments
  }
}
