import Foundation
import O3Common
import O3Threads
import OMMetadata

/// Where an OM keeps its files, from Ozone's keys, and the `--init` step that creates them.
///
/// Layout (Ozone's): `<ozone.metadata.dirs>/om/current/VERSION` marks an initialised OM;
/// the database is `<ozone.om.db.dirs, else ozone.metadata.dirs>/om.db`.
public struct OMStorage: Sendable {
  public let metadataDirectory: String
  public let databaseDirectory: String

  public init(configuration: OzoneConfiguration) throws {
    guard let metadata = configuration[OzoneConfigKeys.metadataDirs], !metadata.isEmpty else {
      throw ConfigurationError(
        key: OzoneConfigKeys.metadataDirs, message: "is not set; it names the directory the OM keeps its data in")
    }
    // Ozone allows a comma-separated list and uses the first entry for OM metadata.
    metadataDirectory = String(metadata.split(separator: ",")[0]).trimmingCharacters(in: .whitespaces)
    let database = configuration.string(OzoneConfigKeys.omDBDirs, default: metadataDirectory)
    databaseDirectory = String(database.split(separator: ",")[0]).trimmingCharacters(in: .whitespaces)
  }

  public var versionFile: String { "\(metadataDirectory)/om/current/VERSION" }
  public var databasePath: String { "\(databaseDirectory)/om.db" }

  public var isInitialized: Bool { FileManager.default.fileExists(atPath: versionFile) }

  /// `initialize()` for async callers: creating om.db fsyncs a file per column family, which
  /// must not hold a thread of the cooperative pool.
  @discardableResult
  public func initialize() async throws -> String {
    try await onOwnThread("om-init") { [self] in try initializeBlocking() }
  }

  /// Creates the VERSION file and an empty om.db; refuses when either exists already.
  @discardableResult
  public func initializeBlocking() throws -> String {
    if isInitialized {
      throw OMMetadataError(.alreadyInitialized, "the OM at \(metadataDirectory) is already initialised (\(versionFile) exists)")
    }
    try FileManager.default.createDirectory(atPath: databaseDirectory, withIntermediateDirectories: true)
    try OMMetadataStore.initialize(path: databasePath)
    let clusterID = "CID-\(UUID().uuidString.lowercased())"
    let properties = [
      "nodeType=OM", "clusterID=\(clusterID)", "omUuid=\(UUID().uuidString.lowercased())",
      "layoutVersion=\(OMMetadataStore.layoutVersion)",
      "cTime=\(UInt64(Date().timeIntervalSince1970 * 1000))",
    ]
    let directory = (versionFile as NSString).deletingLastPathComponent
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    try (properties.joined(separator: "\n") + "\n").write(toFile: versionFile, atomically: true, encoding: .utf8)
    return clusterID
  }

  /// Throws a clear error unless `--init` has run.
  public func requireInitialized() throws {
    guard isInitialized else {
      throw OMMetadataError(.notInitialized, "the OM at \(metadataDirectory) is not initialised: run 'o3 om --init' first")
    }
  }
}
