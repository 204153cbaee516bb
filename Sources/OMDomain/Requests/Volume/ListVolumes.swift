import OMMetadata
import OMProto

/// ListVolume: volumes by name, all of them or one owner's, after `prevKey`, at most one page.
///
/// Ozone lists a user's volumes in creation order (from its userTable); O3 lists them by name in
/// both scopes, which pages stably without a second table.
enum ListVolumes: OMReadRequestHandler {
  static func validate(_ request: OMRequest, limits: OMRequestLimits) throws(OMException) {
    let arguments = request.listVolumeRequest
    switch arguments.scope {
    case .volumesByUser:
      if arguments.userName.isEmpty { throw OMException(.invalidRequest, "listing by user needs a user name") }
    case .volumesByCluster: break
    default: throw OMException(.invalidRequest, "unknown listing scope \(arguments.scope.rawValue)")
    }
  }

  static func read(_ request: OMRequest, store: OMMetadataStore, limits: OMRequestLimits) throws -> OMResponse {
    let arguments = request.listVolumeRequest
    let pageSize = RequestValidation.pageSize(arguments.maxKeys, limits: limits)
    let startAfter = arguments.prevKey.isEmpty ? nil : OMKeys.volume(arguments.prevKey)
    // Volumes are fully cached, so filtering the whole matching range costs no I/O.
    let all = try store.volumeTable.list(
      prefix: OMKeys.volume(arguments.prefix), startAfter: startAfter, limit: Int.max - 1)
    let matching = all.rows.lazy.map(\.value).filter {
      arguments.scope != .volumesByUser || $0.ownerName == arguments.userName
    }
    var response = ListVolumeResponse()
    response.volumeInfo = Array(matching.prefix(pageSize))
    response.isTruncated = matching.dropFirst(pageSize).first != nil
    return .success(.listVolume, .listVolumeResponse(response))
  }
}
