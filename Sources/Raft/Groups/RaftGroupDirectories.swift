import Foundation
import Logging

/// The storage of a process that hosts several Raft groups: one directory per group under a root,
/// created and removed so that a crash at any point leaves either a complete group or none.
///
///     <root>/<uuid>/group.conf     the group's spec (RaftGroupSpecFile)
///     <root>/<uuid>/current/       the group's DurableRaftLog
///     <root>/<uuid>.tmp/           a group being created: left by a crash, deleted by the next scan
///     <root>/removed-<uuid>/       a group being deleted: likewise
///
/// The layout follows Ratis' (`<storage>/<group uuid>/current/`), so an operator finds a
/// pipeline's log by its id. A group is created in `<uuid>.tmp/` (spec written and fsync'd, the
/// directory fsync'd), renamed to `<uuid>/` and the root fsync'd: the rename is the commit. It is
/// removed by renaming it to `removed-<uuid>/` (fsync'd), which is the commit, before its files
/// are deleted.
///
/// Blocking file-system calls throughout: async callers run these on a thread of their own.
public struct RaftGroupDirectories: Sendable {
  public let root: String
  private let logger: Logger

  static let temporarySuffix = ".tmp"
  static let tombstonePrefix = "removed-"

  public init(root: String, logger: Logger) {
    self.root = root
    self.logger = logger
  }

  /// The directory of `group`'s log (`DurableRaftLog.open(directory:)`).
  public func logDirectory(of group: RaftGroupID) -> String {
    groupDirectory(group) + "/current"
  }

  /// The groups stored under the root, in id order. Creates the root when it is missing, and
  /// deletes what a crash left of a creation or a removal. Names that are not a group's (not a
  /// canonical lower-case UUID) are left alone and logged.
  ///
  /// - Throws: ``RaftLogError`` with code `ioFailure` when the root cannot be created or listed,
  ///   or debris cannot be deleted.
  public func scan() throws(RaftLogError) -> [RaftGroupID] {
    try prepareRoot()
    var groups: [RaftGroupID] = []
    for name in try names() {
      if name.hasSuffix(Self.temporarySuffix) || name.hasPrefix(Self.tombstonePrefix) {
        logger.notice("deleting \(root)/\(name), left by a crash while a Raft group was created or removed")
        try removeTree(path(name))
      } else if let group = RaftGroupID(uuidString: name), group.uuidText == name, isDirectory(path(name)) {
        groups.append(group)
      } else {
        logger.warning("ignoring \(root)/\(name): not a Raft group's directory (those are named by a lower-case UUID)")
      }
    }
    return groups.sorted()
  }

  /// Creates `spec`'s group: its directory with the spec and an empty log directory.
  ///
  /// - Precondition: `spec.problem` is nil (the caller refuses a bad spec with its own error).
  /// - Throws: ``RaftLogError`` with code `inconsistentState` when the group's directory exists,
  ///   `ioFailure` (or `noSpace`) when it cannot be written; nothing of the group is left then.
  public func create(_ spec: RaftGroupSpec) throws(RaftLogError) {
    precondition(spec.problem == nil, "a Raft group is created only from a valid spec")
    let final = groupDirectory(spec.id)
    guard !FileManager.default.fileExists(atPath: final) else {
      throw RaftLogError(.inconsistentState, "the directory of Raft group \(spec.id) exists already", file: final)
    }
    let temporary = final + Self.temporarySuffix
    try prepareRoot()
    try removeTree(temporary)
    do throws(RaftLogError) {
      try makeDirectory(temporary)
      try makeDirectory(temporary + "/current")
      let specPath = temporary + "/" + RaftGroupSpecFile.name
      let file = try LogFile.open(specPath, create: true)
      defer { file.close() }
      try file.write(RaftGroupSpecFile.encode(spec), at: 0)
      try file.sync()
      try LogFile.syncDirectory(temporary)
      try LogFile.rename(temporary, to: final)
    } catch {
      try? removeTree(temporary)
      throw error
    }
    try LogFile.syncDirectory(root)
  }

  /// The spec `group` was created with.
  ///
  /// - Throws: ``RaftLogError`` with code `ioFailure` when it cannot be read, `corruptMetadata`
  ///   when it is damaged or names another group.
  public func readSpec(_ group: RaftGroupID) throws(RaftLogError) -> RaftGroupSpec {
    let specPath = groupDirectory(group) + "/" + RaftGroupSpecFile.name
    let file = try LogFile.open(specPath)
    defer { file.close() }
    let size = try file.size()
    guard size <= RaftGroupSpecFile.bytesMax else {
      throw RaftLogError(.corruptMetadata, "the Raft group spec is damaged: \(size) bytes is too long", file: specPath)
    }
    let spec = try RaftGroupSpecFile.decode(try file.read(at: 0, count: size), file: specPath)
    guard spec.id == group else {
      throw RaftLogError(
        .corruptMetadata, "the Raft group spec names group \(spec.id), not the group of its directory", file: specPath)
    }
    return spec
  }

  /// Removes `group`'s directory: durably gone once this returns, even if deleting its files
  /// fails (then logged; the next scan deletes them). Its log must be closed.
  ///
  /// - Throws: ``RaftLogError`` with code `ioFailure` when the group has no directory or it
  ///   cannot be renamed; the group is then as it was.
  public func tombstone(_ group: RaftGroupID) throws(RaftLogError) {
    let tombstone = path(Self.tombstonePrefix + group.uuidText)
    try removeTree(tombstone)
    try LogFile.rename(groupDirectory(group), to: tombstone)
    try LogFile.syncDirectory(root)
    do throws(RaftLogError) {
      try removeTree(tombstone)
    } catch {
      logger.warning("Raft group \(group) is removed, but deleting its files failed (the next start retries): \(error)")
    }
  }

  private func groupDirectory(_ group: RaftGroupID) -> String {
    path(group.uuidText)
  }

  private func path(_ name: String) -> String { root + "/" + name }

  private func prepareRoot() throws(RaftLogError) {
    if isDirectory(root) { return }
    try makeDirectory(root, intermediate: true)
    try LogFile.syncDirectory(URL(fileURLWithPath: root).deletingLastPathComponent().path)
  }

  private func names() throws(RaftLogError) -> [String] {
    do {
      return try FileManager.default.contentsOfDirectory(atPath: root).sorted()
    } catch {
      throw RaftLogError(.ioFailure, "cannot list the Raft groups' directory: \(error)", file: root)
    }
  }

  private func isDirectory(_ path: String) -> Bool {
    var isDirectory: ObjCBool = false
    return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
  }

  private func makeDirectory(_ path: String, intermediate: Bool = false) throws(RaftLogError) {
    do {
      try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: intermediate)
    } catch {
      throw RaftLogError(.ioFailure, "cannot create a directory: \(error)", file: path)
    }
  }

  /// Deletes `path` and everything under it; nothing to do when it does not exist.
  private func removeTree(_ path: String) throws(RaftLogError) {
    guard FileManager.default.fileExists(atPath: path) else { return }
    do {
      try FileManager.default.removeItem(atPath: path)
    } catch {
      throw RaftLogError(.ioFailure, "cannot delete: \(error)", file: path)
    }
  }
}
