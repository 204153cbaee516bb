import Foundation

/// The mark `o3 om --bootstrap` leaves in an OM's storage (`om/current/JOINED`): this OM
/// joined a running group, so its empty Raft log must never be seeded with the configured nodes
/// as founding members. Seeded, it would claim a founding history the group's log contradicts,
/// and could campaign with it; a restart after a crash before the first entry arrived would do
/// exactly that without the mark.
public enum OMJoinMarker {
  public static func path(_ storage: OMStorage) -> String {
    "\(storage.metadataDirectory)/om/current/JOINED"
  }

  public static func isPresent(_ storage: OMStorage) -> Bool {
    FileManager.default.fileExists(atPath: path(storage))
  }

  /// Writes the mark (the storage must be initialised).
  public static func write(_ storage: OMStorage) throws {
    let text = "This OM joined an existing OM service with 'o3 om --bootstrap'; it never founds a new Raft group.\n"
    try text.write(toFile: path(storage), atomically: true, encoding: .utf8)
  }
}
