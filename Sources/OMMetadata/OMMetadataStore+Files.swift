import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The directories a checkpoint install and a checkpoint transfer leave beside om.db, named
/// from the database path so that start-up recovery finds them all.
///
/// All of them live in om.db's parent directory, on the same file system: hard links between
/// them and the renames of a swap then cost no copy.
public enum OMDatabaseFiles {
  /// Where a follower downloads a leader's checkpoint: `om.db.candidate`.
  public static func candidatePath(for databasePath: String) -> String { databasePath + ".candidate" }

  /// The prefix of the database kept during a swap, `om.db.old-<suffix>`; it goes once the new
  /// database has opened.
  public static func oldPathPrefix(for databasePath: String) -> String { databasePath + ".old-" }

  /// The prefix of the leader's temporary checkpoint directories, `om.db.checkpoint-<uuid>`.
  public static func checkpointPathPrefix(for databasePath: String) -> String { databasePath + ".checkpoint-" }

  /// The prefix under which start-up recovery sets aside a database it could not open,
  /// `om.db.unopenable-<milliseconds>`, for the operator to inspect and delete.
  public static func unopenablePathPrefix(for databasePath: String) -> String { databasePath + ".unopenable-" }

  /// Makes the entries of `directory` (files created, renamed or linked in it) durable: a
  /// rename is atomic, but only an fsync of its directory makes it survive a power cut.
  public static func syncDirectory(_ directory: String) throws {
    let descriptor = open(directory, O_RDONLY | O_DIRECTORY)
    guard descriptor >= 0 else {
      throw OMMetadataError(.storage, "cannot open directory \(directory) to sync it: \(String(cString: strerror(errno)))")
    }
    defer { close(descriptor) }
    guard fsync(descriptor) == 0 else {
      throw OMMetadataError(.storage, "cannot sync directory \(directory): \(String(cString: strerror(errno)))")
    }
  }

  static func parent(of path: String) -> String { (path as NSString).deletingLastPathComponent }
}
