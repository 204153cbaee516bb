import Foundation
import O3Common

/// The three-OM service `o3 local` runs on one machine: node ids, ports, directories and the
/// configuration files it writes (DESIGN.md §1). Tests lay out more nodes to add one later.
///
/// Ports follow Ozone's defaults: node n (0, 1, 2) adds 100·n to the base, and each node's Raft
/// and HTTP ports are its client port + 10 and + 12 (9862/9872/9874, 9962/9972/9974, …). Names
/// follow Ozone's compose example: service `omservice`, nodes `om1`, `om2`, `om3`.
public struct LocalServiceLayout: Sendable {
  public static let serviceID = "omservice"
  /// How many OMs `o3 local` runs.
  public static let nodeCount = 3
  public static let defaultBasePort = 9862
  static let raftPortOffset = 10
  static let httpPortOffset = 12
  static let nodePortStride = 100
  /// Ozone's 5 s minimum election timeout is meant for separate machines; on one machine 2 s
  /// elects a leader (and shows a failover) sooner. `--set` can override it.
  static let electionTimeout = "2s"

  /// One OM of the local service.
  public struct Node: Sendable {
    public var nodeID: String
    public var clientPort: Int
    public var raftPort: Int
    public var httpPort: Int
    /// `<root>/<nodeID>`: the OM's metadata directory, its configuration and its log.
    public var directory: String
    public var configurationFile: String { "\(directory)/ozone-site.xml" }
    public var logFile: String { "\(directory)/om.log" }
  }

  public let host = "127.0.0.1"
  public let root: String
  public let nodes: [Node]

  /// - Parameters:
  ///   - root: an absolute directory that holds every node's data.
  ///   - nodeCount: how many nodes, `om1` to `om<nodeCount>`.
  /// - Throws: `ConfigurationError` when a port would fall outside 1–65535.
  public init(root: String, basePort: Int = defaultBasePort, nodeCount: Int = nodeCount) throws {
    let highest = basePort + Self.nodePortStride * (nodeCount - 1) + Self.httpPortOffset
    guard basePort >= 1, highest <= 65535 else {
      throw ConfigurationError(
        key: nil, message: "base port \(basePort) puts the local OMs' ports outside 1-65535 (they span base to base+\(highest - basePort))")
    }
    self.root = root
    nodes = (0..<nodeCount).map { index in
      let client = basePort + Self.nodePortStride * index
      return Node(
        nodeID: "om\(index + 1)", clientPort: client, raftPort: client + Self.raftPortOffset,
        httpPort: client + Self.httpPortOffset, directory: "\(root)/om\(index + 1)")
    }
  }

  /// The client configuration: `<root>/ozone-site.xml`, so `OZONE_CONF_DIR=<root>` finds it.
  public var clientConfigurationFile: String { "\(root)/ozone-site.xml" }

  /// What every process needs to know about the service: its nodes and their addresses.
  public var clientConfiguration: OzoneConfiguration {
    var configuration = OzoneConfiguration()
    let service = Self.serviceID
    configuration["ozone.om.service.ids"] = service
    configuration["ozone.om.nodes.\(service)"] = nodes.map(\.nodeID).joined(separator: ",")
    for node in nodes {
      configuration["ozone.om.address.\(service).\(node.nodeID)"] = "\(host):\(node.clientPort)"
      configuration["ozone.om.ratis.port.\(service).\(node.nodeID)"] = "\(node.raftPort)"
      configuration["ozone.om.http-address.\(service).\(node.nodeID)"] = "\(host):\(node.httpPort)"
    }
    return configuration
  }

  /// One node's server configuration: the service, which node it is, and where its data goes;
  /// then the operator's `--set` overrides.
  public func serverConfiguration(_ node: Node, overrides: [String] = []) throws -> OzoneConfiguration {
    var configuration = clientConfiguration
    configuration["ozone.om.node.id"] = node.nodeID
    configuration[OzoneConfigKeys.metadataDirs] = node.directory
    configuration["ozone.om.ratis.minimum.timeout"] = Self.electionTimeout
    for override in overrides { try configuration.apply(override: override) }
    return configuration
  }

  /// Every port the service binds with the key that sets it, for a clear error when one is taken.
  public var portsWithKeys: [(port: Int, key: String)] {
    nodes.flatMap { node in
      [
        (node.clientPort, "ozone.om.address.\(Self.serviceID).\(node.nodeID)"),
        (node.raftPort, "ozone.om.ratis.port.\(Self.serviceID).\(node.nodeID)"),
        (node.httpPort, "ozone.om.http-address.\(Self.serviceID).\(node.nodeID)"),
      ]
    }
  }

  /// A configuration as Hadoop's `*-site.xml`, keys sorted.
  public static func hadoopXML(_ configuration: OzoneConfiguration) -> String {
    let properties = configuration.allValues.map {
      "  <property>\n    <name>\(escape($0.key))</name>\n    <value>\(escape($0.value))</value>\n  </property>"
    }
    return "<?xml version=\"1.0\"?>\n<configuration>\n" + properties.joined(separator: "\n") + "\n</configuration>\n"
  }

  private static func escape(_ text: String) -> String {
    text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
      .replacingOccurrences(of: ">", with: "&gt;")
  }
}
