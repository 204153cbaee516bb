import Foundation

/// One data volume of a datanode (a directory of `hdds.datanode.dir`; Ozone's HddsVolume), with
/// `<root>/hdds/VERSION` once SCM has told the datanode its cluster id.
///
/// States as Ozone's: a missing directory is created; an empty `hdds/` waits for the cluster id
/// (NOT_FORMATTED) and is then formatted (VERSION with `storageID=DS-<uuid>`, `clusterID`,
/// `datanodeUuid`, `ctime`, `layOutVersion`, and the `<clusterID>/` working directory); a VERSION
/// is checked against the cluster and datanode (NORMAL, or FAILED on a mismatch); a non-empty
/// `hdds/` without VERSION is INCONSISTENT and not used.
public struct StorageVolume: Sendable {
  public enum State: String, Sendable {
    case notFormatted = "NOT_FORMATTED"
    case normal = "NORMAL"
    case inconsistent = "INCONSISTENT"
    case failed = "FAILED"
  }

  public let root: String
  public private(set) var state: State
  public private(set) var storageID: String?
  /// Why the volume is not used, when it is not.
  public private(set) var problem: String?

  public var hddsDirectory: String { "\(root)/hdds" }
  public var versionFile: String { "\(hddsDirectory)/VERSION" }

  /// Looks at the volume (creating its `hdds/` directory when missing).
  public init(root: String) {
    self.root = root
    let manager = FileManager.default
    do {
      try manager.createDirectory(atPath: "\(root)/hdds", withIntermediateDirectories: true)
    } catch {
      state = .failed
      problem = "cannot create \(root)/hdds: \(error.localizedDescription)"
      return
    }
    if manager.fileExists(atPath: "\(root)/hdds/VERSION") {
      state = .notFormatted  // checked against the cluster in `format`
    } else if ((try? manager.contentsOfDirectory(atPath: "\(root)/hdds")) ?? []).isEmpty {
      state = .notFormatted
    } else {
      state = .inconsistent
      problem = "Volume is in an INCONSISTENT state (files but no VERSION). Skipped loading volume: \(root)"
    }
  }

  /// Formats a fresh volume for `clusterID`, or checks an existing one belongs to it and to
  /// `datanodeUUID`; a mismatch fails the volume and leaves its files alone.
  public mutating func format(clusterID: String, datanodeUUID: String, now: Date = Date()) {
    guard state == .notFormatted || state == .normal else { return }
    if let properties = Self.readProperties(versionFile) {
      if properties["clusterID"] != clusterID {
        fail("Mismatched ClusterIDs. Version File : \(versionFile) has clusterID: \(properties["clusterID"] ?? "(none)") and Datanode has clusterID: \(clusterID)")
        return
      }
      if properties["datanodeUuid"] != datanodeUUID {
        fail("Mismatched DatanodeUUIDs. Version File : \(versionFile) has datanodeUuid: \(properties["datanodeUuid"] ?? "(none)") and Datanode has datanodeUuid: \(datanodeUUID)")
        return
      }
      storageID = properties["storageID"]
    } else {
      let storage = "DS-\(UUID().uuidString.lowercased())"
      let text = [
        "#\(now)", "storageID=\(storage)", "clusterID=\(clusterID)", "datanodeUuid=\(datanodeUUID)",
        "ctime=\(UInt64(now.timeIntervalSince1970 * 1000))", "layOutVersion=1",
      ].joined(separator: "\n") + "\n"
      do {
        try text.write(toFile: versionFile, atomically: true, encoding: .utf8)
      } catch {
        fail("cannot write \(versionFile): \(error.localizedDescription)")
        return
      }
      storageID = storage
    }
    do {
      try FileManager.default.createDirectory(atPath: "\(hddsDirectory)/\(clusterID)/tmp", withIntermediateDirectories: true)
    } catch {
      fail("cannot create \(hddsDirectory)/\(clusterID): \(error.localizedDescription)")
      return
    }
    state = .normal
    problem = nil
  }

  private mutating func fail(_ reason: String) {
    state = .failed
    problem = reason
  }

  /// Capacity and free bytes of the file system the volume is on.
  public var space: (capacity: UInt64, remaining: UInt64) {
    guard let attributes = try? FileManager.default.attributesOfFileSystem(forPath: root) else { return (0, 0) }
    let capacity = (attributes[.systemSize] as? NSNumber)?.uint64Value ?? 0
    let free = (attributes[.systemFreeSize] as? NSNumber)?.uint64Value ?? 0
    return (capacity, free)
  }

  static func readProperties(_ path: String) -> [String: String]? {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
    var properties: [String: String] = [:]
    for line in text.split(separator: "\n") where !line.hasPrefix("#") {
      guard let equals = line.firstIndex(of: "=") else { continue }
      properties[String(line[..<equals])] = String(line[line.index(after: equals)...])
    }
    return properties
  }
}
