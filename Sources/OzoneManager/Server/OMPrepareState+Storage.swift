import Foundation
import Logging
import OMDomain
import OMMetadata

extension OMPrepareState {
  /// The state om.db records, with the marker file made to agree with it.
  public static func restore(from store: OMMetadataStore, storage: OMStorage, logger: Logger) throws -> OMPrepareState {
    let prepareState = OMPrepareState(markerPath: markerPath(storage), logger: logger)
    try prepareState.reload(from: store)
    return prepareState
  }

  /// `<ozone.metadata.dirs>/om/current/prepareMarker`, beside `VERSION`.
  public static func markerPath(_ storage: OMStorage) -> String {
    (storage.versionFile as NSString).deletingLastPathComponent + "/" + markerFileName
  }
}
