import OMProto

extension OzoneClient {
  /// Creates a volume; nil quotas mean none, a nil owner means the caller.
  public func createVolume(_ name: String, owner: String? = nil, quotaInBytes: Int64? = nil, quotaInNamespace: Int64? = nil)
    async throws
  {
    var info = VolumeInfo()
    info.volume = name
    info.ownerName = owner ?? ""
    info.quotaInBytes = quotaInBytes ?? -1
    info.quotaInNamespace = quotaInNamespace ?? -1
    var request = CreateVolumeRequest()
    request.volumeInfo = info
    try await call(.createVolume, .createVolumeRequest(request))
  }

  public func volumeInfo(_ name: String) async throws -> VolumeInfo {
    var request = InfoVolumeRequest()
    request.volumeName = name
    return try await call(.infoVolume, .infoVolumeRequest(request)).infoVolumeResponse.volumeInfo
  }

  /// Changes what is given: owner, space quota, namespace quota (-1 clears a quota).
  public func setVolumeProperty(
    _ name: String, owner: String? = nil, quotaInBytes: Int64? = nil, quotaInNamespace: Int64? = nil
  ) async throws {
    var request = SetVolumePropertyRequest()
    request.volumeName = name
    if let owner { request.ownerName = owner }
    if let quotaInBytes { request.quotaInBytes = quotaInBytes }
    if let quotaInNamespace { request.quotaInNamespace = quotaInNamespace }
    try await call(.setVolumeProperty, .setVolumePropertyRequest(request))
  }

  public func deleteVolume(_ name: String) async throws {
    var request = DeleteVolumeRequest()
    request.volumeName = name
    try await call(.deleteVolume, .deleteVolumeRequest(request))
  }

  /// One page of volumes: every volume when `user` is nil, else that owner's.
  public func listVolumes(user: String?, prefix: String = "", startAfter: String = "", maxKeys: UInt32 = 0)
    async throws -> (volumes: [VolumeInfo], isTruncated: Bool)
  {
    var request = ListVolumeRequest()
    request.scope = user == nil ? .volumesByCluster : .volumesByUser
    request.userName = user ?? ""
    request.prefix = prefix
    request.prevKey = startAfter
    request.maxKeys = maxKeys
    let response = try await call(.listVolume, .listVolumeRequest(request)).listVolumeResponse
    return (response.volumeInfo, response.isTruncated)
  }
}
