import OMProto

/// CreateVolume: a new volume owned by the caller unless an owner is named.
enum CreateVolume: OMWriteRequestHandler {
  static func preExecute(_ request: OMRequest, context: PreExecuteContext, limits: OMRequestLimits) throws(OMException)
    -> OMRequest
  {
    var rewritten = request
    var info = request.createVolumeRequest.volumeInfo
    try RequestValidation.volumeName(info.volume, limits: limits)
    try RequestValidation.metadata(info.metadata, limits: limits)
    if info.quotaInBytes == 0 { info.quotaInBytes = -1 }
    if info.quotaInNamespace == 0 { info.quotaInNamespace = -1 }
    try RequestValidation.quota(info.quotaInBytes, what: "space")
    try RequestValidation.quota(info.quotaInNamespace, what: "namespace")
    if info.ownerName.isEmpty { info.ownerName = context.userName }
    if info.adminName.isEmpty { info.adminName = context.userName }
    info.creationTime = context.nowMilliseconds
    info.modificationTime = context.nowMilliseconds
    info.usedNamespace = 0
    info.objectID = 0
    info.updateID = 0
    rewritten.createVolumeRequest.volumeInfo = info
    return rewritten
  }

  static func apply(_ request: OMRequest, transaction: OMTransaction) throws -> OMResponse {
    var info = request.createVolumeRequest.volumeInfo
    if try transaction.volume(info.volume) != nil {
      throw OMException(.volumeAlreadyExists, "volume \(info.volume) already exists")
    }
    info.objectID = transaction.objectID()
    info.updateID = transaction.index
    transaction.putVolume(info)
    return .success(.createVolume, .createVolumeResponse(CreateVolumeResponse()))
  }
}
