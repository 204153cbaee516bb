import Foundation
import Yams

/// Who this datanode is, kept across restarts in `datanode.id` (Ozone's file, in
/// `ozone.scm.datanode.id.dir`, else `ozone.metadata.dirs`): its uuid above all, which SCM and
/// every container replica's origin name it by.
///
/// YAML with Ozone's fields (`uuid`, `ipAddress`, `hostName`, `certSerialId`, `persistedOpState`,
/// `persistedOpStateExpiryEpochSec`, `portDetails`, `initialVersion`, `currentVersion`), written
/// atomically; Ozone's SnakeYAML class tag is left out. On every start the host name and address
/// are refreshed and the uuid kept.
public struct DatanodeIdentity: Codable, Sendable, Equatable {
  public var uuid: String
  public var ipAddress: String
  public var hostName: String
  public var certSerialId: String?
  public var persistedOpState: String
  public var persistedOpStateExpiryEpochSec: Int64
  public var portDetails: [String: Int]
  public var initialVersion: Int
  public var currentVersion: Int

  /// The layout version O3's datanodes write.
  public static let layoutVersion = 1

  /// A new identity with a fresh uuid.
  public static func new(hostName: String, ipAddress: String) -> DatanodeIdentity {
    DatanodeIdentity(
      uuid: UUID().uuidString.lowercased(), ipAddress: ipAddress, hostName: hostName, certSerialId: nil,
      persistedOpState: "IN_SERVICE", persistedOpStateExpiryEpochSec: 0, portDetails: [:], initialVersion: layoutVersion,
      currentVersion: layoutVersion)
  }

  /// Reads `path`; nil when there is no file yet. A file that does not parse, or has no uuid, is
  /// an error: a datanode must never silently take a new identity over an old one's data.
  public static func load(from path: String) throws -> DatanodeIdentity? {
    guard FileManager.default.fileExists(atPath: path) else { return nil }
    let text = try String(contentsOfFile: path, encoding: .utf8)
    let identity: DatanodeIdentity
    do {
      identity = try YAMLDecoder().decode(DatanodeIdentity.self, from: text)
    } catch {
      throw DatanodeError("\(path) is not a datanode id file (\(error)); move it away only if this datanode's volumes are empty")
    }
    guard UUID(uuidString: identity.uuid) != nil else {
      throw DatanodeError("Datanode ID file is empty or has null UUID: \(path)")
    }
    return identity
  }

  /// Writes the identity to `path` (a new file, then a rename: a crash leaves the old or the new).
  public func save(to path: String) throws {
    let directory = (path as NSString).deletingLastPathComponent
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    try YAMLEncoder().encode(self).write(toFile: path, atomically: true, encoding: .utf8)
  }
}

/// A datanode problem, in words for the operator.
public struct DatanodeError: Error, CustomStringConvertible, Sendable {
  public var description: String
  public init(_ description: String) { self.description = description }
}
