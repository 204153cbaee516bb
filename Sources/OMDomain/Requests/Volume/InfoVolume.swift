import OMMetadata
import OMProto

/// InfoVolume: one volume's properties.
enum InfoVolume: OMReadRequestHandler {
  static func validate(_ request: OMRequest, limits: OMRequestLimits) throws(OMException) {
    try RequestValidation.volumeName(request.infoVolumeRequest.volumeName, limits: limits)
  }

  static func read(_ request: OMRequest, store: OMMetadataStore, limits: OMRequestLimits) throws -> OMResponse {
    let name = request.infoVolumeRequest.volumeName
    guard let volume = try store.volumeTable.get(OMKeys.volume(name)) else {
      throw OMException(.volumeNotFound, "volume \(name) not found")
    }
    var response = InfoVolumeResponse()
    response.volumeInfo = volume
    return .success(.infoVolume, .infoVolumeResponse(response))
  }
}
