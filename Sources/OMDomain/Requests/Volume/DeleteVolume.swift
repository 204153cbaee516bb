import OMProto

/// DeleteVolume: only an empty volume (no buckets) can be deleted.
enum DeleteVolume: OMWriteRequestHandler {
  static func preExecute(_ request: OMRequest, context: PreExecuteContext, limits: OMRequestLimits) throws(OMException)
    -> OMRequest
  {
    try RequestValidation.volumeName(request.deleteVolumeRequest.volumeName, limits: limits)
    return request
  }

  static func apply(_ request: OMRequest, transaction: OMTransaction) throws -> OMResponse {
    let name = request.deleteVolumeRequest.volumeName
    guard try transaction.volume(name) != nil else {
      throw OMException(.volumeNotFound, "volume \(name) not found")
    }
    if try transaction.hasBuckets(name) {
      throw OMException(.volumeNotEmpty, "volume \(name) is not empty: delete its buckets first")
    }
    transaction.deleteVolume(name)
    return .success(.deleteVolume, .deleteVolumeResponse(DeleteVolumeResponse()))
  }
}
