import Foundation
import O3Common
import O3Threads
import SCMMetadata

/// Where an SCM keeps its files, from Ozone's keys, and the `--init` step that creates them.
///
/// Layout (Ozone's): the root is `ozone.scm.db.dirs`, else `ozone.metadata.dirs`;
/// `<root>/scm/current/VERSION` marks an initialised SCM and `<root>/scm.db` is its database. The
/// Raft log is `ozone.scm.ha.ratis.storage.dir`, else `<ozone.metadata.dirs>/scm.ratis`.
public struct SCMStorage: Sendable {
  public let metadataDirectory: String
  public let rootDirectory: String

  public init(configuration: OzoneConfiguration) throws {
    guard let metadata = configuration[OzoneConfigKeys.metadataDirs], !metadata.isEmpty else {
      throw ConfigurationError(
        key: OzoneConfigKeys.metadataDirs, message: "is not set; it names the directory the SCM keeps its data in")
    }
    metadataDirectory = String(metadata.split(separator: ",")[0]).trimmingCharacters(in: .whitespaces)
    let root = configuration.string("ozone.scm.db.dirs", default: metadataDirectory)
    rootDirectory = String(root.split(separator: ",")[0]).trimmingCharacters(in: .whitespaces)
  }

  public var versionFile: String { "\(rootDirectory)/scm/current/VERSION" }
  public var databasePath: String { "\(rootDirectory)/scm.db" }

  public var isInitialized: Bool { FileManager.default.fileExists(atPath: versionFile) }

  /// What an initialised SCM's VERSION file says.
  public struct Version: Sendable, Equatable {
    /// `CID-<uuid>`, shared by every server of the cluster.
    public var clusterID: String
    /// This SCM's own id (Ozone's scmUuid).
    public var scmID: String
  }

  /// `--init` for async callers: creating scm.db fsyncs a file per column family, which must not
  /// hold a thread of the cooperative pool.
  @discardableResult
  public func initialize(clusterID: String? = nil) async throws -> Version {
    try await onOwnThread("scm-init") { [self] in try initializeBlocking(clusterID: clusterID) }
  }

  /// Creates the VERSION file and an empty scm.db; refuses when either exists already, and a
  /// cluster id that is not a UUID (Ozone's rule for `--clusterid`).
  @discardableResult
  public func initializeBlocking(clusterID: String? = nil) throws -> Version {
    if isInitialized {
      throw SCMMetadataError(.alreadyInitialized, "the SCM at \(rootDirectory) is already initialised (\(versionFile) exists)")
    }
    if let clusterID, UUID(uuidString: clusterID) == nil {
      throw ConfigurationError(key: nil, message: "--clusterid '\(clusterID)' is not a UUID")
    }
    let version = Version(
      clusterID: clusterID ?? "CID-\(UUID().uuidString.lowercased())", scmID: UUID().uuidString.lowercased())
    try FileManager.default.createDirectory(atPath: rootDirectory, withIntermediateDirectories: true)
    try SCMMetadataStore.initialize(path: databasePath)
    let properties = [
      "nodeType=SCM", "clusterID=\(version.clusterID)", "scmUuid=\(version.scmID)", "primaryScmNodeId=\(version.scmID)",
      "scmHA=true", "layoutVersion=\(SCMMetadataStore.layoutVersion)", "cTime=\(UInt64(Date().timeIntervalSince1970 * 1000))",
    ]
    let directory = (versionFile as NSString).deletingLastPathComponent
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    try (properties.joined(separator: "\n") + "\n").write(toFile: versionFile, atomically: true, encoding: .utf8)
    return version
  }

  /// Reads VERSION; a clear error unless `--init` has run, or when the file is not an SCM's.
  public func readVersion() throws -> Version {
    guard isInitialized else {
      throw SCMMetadataError(
        .notInitialized, "the SCM at \(rootDirectory) is not initialised: run 'o3 scm --init' first")
    }
    let text = try String(contentsOfFile: versionFile, encoding: .utf8)
    var properties: [String: String] = [:]
    for line in text.split(separator: "\n") where !line.hasPrefix("#") {
      guard let equals = line.firstIndex(of: "=") else { continue }
      properties[String(line[..<equals])] = String(line[line.index(after: equals)...])
    }
    guard properties["nodeType"] == "SCM", let clusterID = properties["clusterID"], !clusterID.isEmpty,
      let scmID = properties["scmUuid"], !scmID.isEmpty
    else {
      throw SCMMetadataError(.corruptValue, "\(versionFile) is not an SCM's VERSION file (nodeType, clusterID and scmUuid are required)")
    }
    return Version(clusterID: clusterID, scmID: scmID)
  }
}
