import Foundation

/// What start-up recovery did to the directories beside om.db, for the OM to log.
public enum OMDatabaseRecoveryAction: Sendable, Equatable, CustomStringConvertible {
  /// A follower's download that never finished (or finished but was never swapped in).
  case removedCandidate(String)
  /// A leader's temporary checkpoint left by a transfer that never finished.
  case removedLeaderCheckpoint(String)
  /// om.db was missing: a swap stopped between its two renames, so the old database came back.
  case restoredOldDatabase(from: String, to: String)
  /// om.db could not be opened while an old database existed: a swap's roll-back was cut short.
  case setAsideUnopenable(from: String, to: String, error: String)
  /// om.db opened: the database kept during its swap is no longer needed.
  case removedOldDatabase(String)

  public var description: String {
    switch self {
    case .removedCandidate(let path): "removed the unfinished checkpoint download \(path)"
    case .removedLeaderCheckpoint(let path): "removed the leftover leader checkpoint \(path)"
    case .restoredOldDatabase(let from, let to):
      "restored the database kept before an interrupted checkpoint install: \(from) -> \(to)"
    case .setAsideUnopenable(let from, let to, let error):
      "set aside the database that could not be opened after an interrupted checkpoint install: \(from) -> \(to) (\(error))"
    case .removedOldDatabase(let path): "removed the database kept before a completed checkpoint install: \(path)"
    }
  }
}

extension OMMetadataStore {
  /// Opens om.db after putting right whatever an interrupted checkpoint install left behind,
  /// and returns what was done (empty after a clean shutdown).
  ///
  /// `replace(with:oldSuffix:validate:)` renames om.db to `om.db.old-<suffix>`, renames the
  /// candidate to om.db, opens it, and only then deletes the old one; a crash can stop it
  /// anywhere. The rules, applied in this order, give one outcome for every stopping point:
  /// 1. A candidate directory and leader checkpoints are removed: a later install starts over.
  /// 2. om.db missing but an old database present: the new one never took its place, so the
  ///    newest old one (by suffix, a time in milliseconds) is renamed back.
  /// 3. om.db present but unopenable while an old database exists: the roll-back of a failed
  ///    install was cut short while deleting the new one; it is set aside (not deleted, in case
  ///    an operator wants it) and the newest old one comes back. An open refused because another
  ///    process holds the database is not that case and is thrown as is.
  /// 4. Once om.db has opened, every old database is deleted.
  public static func openRecovering(path: String) throws -> (store: OMMetadataStore, actions: [OMDatabaseRecoveryAction]) {
    let files = FileManager.default
    let parent = OMDatabaseFiles.parent(of: path)
    var actions: [OMDatabaseRecoveryAction] = []
    let names = (try? files.contentsOfDirectory(atPath: parent)) ?? []
    let leftovers = names.map { parent + "/" + $0 }
    let candidate = OMDatabaseFiles.candidatePath(for: path)
    if leftovers.contains(candidate) {
      try files.removeItem(atPath: candidate)
      actions.append(.removedCandidate(candidate))
    }
    for checkpoint in leftovers.filter({ $0.hasPrefix(OMDatabaseFiles.checkpointPathPrefix(for: path)) }).sorted() {
      try files.removeItem(atPath: checkpoint)
      actions.append(.removedLeaderCheckpoint(checkpoint))
    }
    var olds = oldDatabases(among: leftovers, of: path)
    if !files.fileExists(atPath: path), let newest = olds.popLast() {
      try restore(newest, to: path)
      actions.append(.restoredOldDatabase(from: newest, to: path))
    }
    let store: OMMetadataStore
    do {
      store = try open(path: path)
    } catch let error where !olds.isEmpty && !isHeldByAnotherProcess(error) {
      let newest = olds.removeLast()
      let aside = OMDatabaseFiles.unopenablePathPrefix(for: path) + String(UInt64(Date().timeIntervalSince1970 * 1000))
      try files.moveItem(atPath: path, toPath: aside)
      actions.append(.setAsideUnopenable(from: path, to: aside, error: "\(error)"))
      try restore(newest, to: path)
      actions.append(.restoredOldDatabase(from: newest, to: path))
      store = try open(path: path)
    }
    for old in olds {
      try? files.removeItem(atPath: old)
      actions.append(.removedOldDatabase(old))
    }
    return (store, actions)
  }

  /// The `om.db.old-<suffix>` directories, oldest first: numeric suffixes (milliseconds) by
  /// value, any other after them by name, so that the choice never depends on listing order.
  static func oldDatabases(among paths: [String], of databasePath: String) -> [String] {
    let prefix = OMDatabaseFiles.oldPathPrefix(for: databasePath)
    return paths.filter { $0.hasPrefix(prefix) }.sorted { left, right in
      let leftNumber = UInt64(left.dropFirst(prefix.count))
      let rightNumber = UInt64(right.dropFirst(prefix.count))
      switch (leftNumber, rightNumber) {
      case (let l?, let r?): return l != r ? l < r : left < right
      case (.some, nil): return true
      case (nil, .some): return false
      case (nil, nil): return left < right
      }
    }
  }

  private static func restore(_ old: String, to path: String) throws {
    try FileManager.default.moveItem(atPath: old, toPath: path)
    try OMDatabaseFiles.syncDirectory(OMDatabaseFiles.parent(of: path))
  }

  /// RocksDB refuses a second open of a database through its LOCK file; moving such a database
  /// aside would pull it from under the OM using it.
  private static func isHeldByAnotherProcess(_ error: Error) -> Bool {
    let text = "\(error)"
    return text.contains("While lock file") || text.contains("lock hold by current process")
  }
}
