import O3Common

/// An object address as Ozone's shell takes it: `[o3://authority]/volume[/bucket[/key]]`, where
/// the authority is an OM service id (`o3://omservice/vol`) or one OM's `host[:port]`.
public struct OzoneAddress: Sendable, Equatable {
  /// The text between `o3://` and the next `/`; nil when absent or empty.
  public var authority: String?
  public var volume: String?
  public var bucket: String?
  /// Everything after the bucket, slashes included.
  public var key: String?

  public static let scheme = "o3://"

  public init(authority: String? = nil, volume: String? = nil, bucket: String? = nil, key: String? = nil) {
    self.authority = authority
    self.volume = volume
    self.bucket = bucket
    self.key = key
  }

  /// Splits an address; which OMs the authority means is decided later, against a configuration
  /// (`target(in:)`).
  ///
  /// - Throws: `OzoneAddressError` for a scheme other than `o3://`.
  public static func parse(_ text: String) throws -> OzoneAddress {
    var rest = Substring(text)
    var address = OzoneAddress()
    if rest.hasPrefix(scheme) {
      rest = rest.dropFirst(scheme.count)
      let authorityEnd = rest.firstIndex(of: "/") ?? rest.endIndex
      let authority = rest[..<authorityEnd]
      if !authority.isEmpty { address.authority = String(authority) }
      rest = rest[authorityEnd...]
    } else if text.contains("://") {
      throw OzoneAddressError(message: "unsupported address '\(text)': use o3://<serviceId or host:port>/volume/bucket/key")
    }
    rest = rest.drop { $0 == "/" }
    guard !rest.isEmpty else { return address }
    let volumeEnd = rest.firstIndex(of: "/") ?? rest.endIndex
    address.volume = String(rest[..<volumeEnd])
    rest = rest[volumeEnd...].drop { $0 == "/" }
    guard !rest.isEmpty else { return address }
    let bucketEnd = rest.firstIndex(of: "/") ?? rest.endIndex
    address.bucket = String(rest[..<bucketEnd])
    rest = rest[bucketEnd...]
    if rest.hasPrefix("/") { rest = rest.dropFirst() }
    if !rest.isEmpty { address.key = String(rest) }
    return address
  }

  /// Which OMs serve this address: the service the authority names when `ozone.om.service.ids`
  /// lists it, else the OM at `host[:port]`; without an authority, the configured service, or
  /// the single OM at `ozone.om.address` (default localhost:9862).
  ///
  /// - Throws: `OzoneAddressError` for an authority that is neither; `ConfigurationError` naming
  ///   the key when the configuration cannot say.
  public func target(in configuration: OzoneConfiguration) throws -> OMTarget {
    guard let authority else {
      let service = try OMServiceAddresses(configuration: configuration)
      if let serviceID = service.serviceID { return .service(serviceID) }
      return .node(service.nodes[0].address)
    }
    let serviceIDs = OMServiceAddresses.serviceIDs(in: configuration)
    if serviceIDs.contains(authority) { return .service(authority) }
    do {
      return .node(try HostAndPort.parse(authority, defaultPort: OzoneConfigKeys.omAddressDefaultPort).connectable)
    } catch let error as ConfigurationError {
      let services = serviceIDs.isEmpty ? "none configured" : serviceIDs.joined(separator: ",")
      throw OzoneAddressError(
        message: "'\(authority)' in '\(Self.scheme)\(authority)/' is neither an OM service id (\(services)) nor host:port: \(error.message)")
    }
  }
}

/// Where a client connects: one OM, or a service of several (failover between them).
public enum OMTarget: Sendable, Equatable {
  case node(HostAndPort)
  case service(String)
}

/// An object address that cannot be used; the message says what to write instead.
public struct OzoneAddressError: Error, Sendable, Equatable, CustomStringConvertible {
  public let message: String

  public init(message: String) {
    self.message = message
  }

  public var description: String { message }
}

extension HostAndPort {
  /// A wildcard address is where a server listens, not somewhere to connect: it means this machine.
  var connectable: HostAndPort {
    switch host {
    case "0.0.0.0": HostAndPort(host: "127.0.0.1", port: port)
    case "::": HostAndPort(host: "::1", port: port)
    default: self
    }
  }
}
