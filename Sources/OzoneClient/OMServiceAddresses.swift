import Foundation
import O3Common

/// One OM a client may call: its node id and its client RPC address.
public struct OMNodeAddress: Sendable, Hashable, CustomStringConvertible {
  public var nodeID: String
  public var address: HostAndPort

  public init(nodeID: String, address: HostAndPort) {
    self.nodeID = nodeID
    self.address = address
  }

  public var description: String { "\(nodeID) (\(address))" }
}

/// The OMs of one service as a client reads them from Ozone's keys, in `ozone.om.nodes.<svc>` order.
///
/// The client side of what `OMServiceConfiguration` reads on the server (a client may not import
/// the server module): `ozone.om.service.ids`, `ozone.om.nodes.<svc>`, `ozone.om.address.<svc>.<node>`
/// (`host[:9862]`); without `ozone.om.service.ids`, the single OM at `ozone.om.address`
/// (default localhost:9862), named `om1` as the server names itself.
public struct OMServiceAddresses: Sendable, Equatable {
  /// The service id, nil for the single-OM form.
  public var serviceID: String?
  /// Never empty; node ids are unique.
  public var nodes: [OMNodeAddress]

  public static let serviceIDsKey = "ozone.om.service.ids"
  public static func nodesKey(_ serviceID: String) -> String { "ozone.om.nodes.\(serviceID)" }
  public static func addressKey(_ serviceID: String, _ nodeID: String) -> String {
    "ozone.om.address.\(serviceID).\(nodeID)"
  }
  /// The node id of the single OM when no service is configured (the server's name for itself).
  public static let singleNodeID = "om1"

  public init(serviceID: String?, nodes: [OMNodeAddress]) {
    precondition(!nodes.isEmpty, "an OM service has at least one node")
    precondition(Set(nodes.map(\.nodeID)).count == nodes.count, "OM node ids are unique")
    self.serviceID = serviceID
    self.nodes = nodes
  }

  /// The single OM at `address`, for a client given one OM and no service.
  public init(singleOM address: HostAndPort) {
    self.init(serviceID: nil, nodes: [OMNodeAddress(nodeID: Self.singleNodeID, address: address)])
  }

  /// Reads service `serviceID`, or when nil the only service configured, or when none is, the
  /// single OM at `ozone.om.address`.
  ///
  /// - Throws: `ConfigurationError` naming the key that is missing or malformed.
  public init(configuration: OzoneConfiguration, serviceID: String? = nil) throws {
    guard let service = try Self.resolveServiceID(serviceID, in: configuration) else {
      let address = try configuration.hostAndPort(
        OzoneConfigKeys.omAddress, defaultHost: "localhost", defaultPort: OzoneConfigKeys.omAddressDefaultPort)
      self.init(singleOM: address.connectable)
      return
    }
    let nodesKey = Self.nodesKey(service)
    let nodeIDs = Self.list(configuration[nodesKey])
    guard !nodeIDs.isEmpty else {
      throw ConfigurationError(key: nodesKey, message: "is not set; it lists the OM node ids of service \(service)")
    }
    if let duplicate = Self.firstDuplicate(nodeIDs) {
      throw ConfigurationError(key: nodesKey, message: "names node '\(duplicate)' twice")
    }
    let nodes = try nodeIDs.map { nodeID in
      let key = Self.addressKey(service, nodeID)
      guard let text = configuration[key], !text.isEmpty else {
        throw ConfigurationError(key: key, message: "is not set; it is where OM \(nodeID) of service \(service) serves clients")
      }
      let address = try configuration.hostAndPort(
        key, defaultHost: "localhost", defaultPort: OzoneConfigKeys.omAddressDefaultPort)
      return OMNodeAddress(nodeID: nodeID, address: address.connectable)
    }
    self.init(serviceID: service, nodes: nodes)
  }

  /// The service ids in `ozone.om.service.ids`, in order (empty when unset).
  public static func serviceIDs(in configuration: OzoneConfiguration) -> [String] {
    list(configuration[serviceIDsKey])
  }

  /// `requested` checked against `ozone.om.service.ids`; when nil, the only id listed, or nil when
  /// none is (the single-OM form).
  public static func resolveServiceID(_ requested: String?, in configuration: OzoneConfiguration) throws -> String? {
    let serviceIDs = serviceIDs(in: configuration)
    if let requested {
      guard serviceIDs.contains(requested) else {
        let listed = serviceIDs.isEmpty ? "is not set" : "lists only \(serviceIDs.joined(separator: ","))"
        throw ConfigurationError(key: serviceIDsKey, message: "\(listed); OM service '\(requested)' is not configured")
      }
      return requested
    }
    guard serviceIDs.count <= 1 else {
      throw ConfigurationError(
        key: serviceIDsKey,
        message: "lists several OM services (\(serviceIDs.joined(separator: ","))); name one, as in o3://\(serviceIDs[0])/volume")
    }
    return serviceIDs.first
  }

  private static func list(_ text: String?) -> [String] {
    (text ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
  }

  private static func firstDuplicate(_ names: [String]) -> String? {
    var seen = Set<String>()
    return names.first { !seen.insert($0).inserted }
  }
}
