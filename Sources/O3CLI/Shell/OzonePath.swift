import O3Common

/// An address as `ozone sh` takes it: `[o3://host[:port]]/volume[/bucket[/key]]`.
struct OzonePath: Equatable {
  var server: HostAndPort?
  var volume: String?
  var bucket: String?
  var key: String?

  static func parse(_ text: String) throws -> OzonePath {
    var rest = Substring(text)
    var server: HostAndPort?
    if rest.hasPrefix("o3://") {
      rest = rest.dropFirst("o3://".count)
      let authorityEnd = rest.firstIndex(of: "/") ?? rest.endIndex
      let authority = String(rest[..<authorityEnd])
      if !authority.isEmpty {
        server = try HostAndPort.parse(authority, defaultPort: OzoneConfigKeys.omAddressDefaultPort)
      }
      rest = rest[authorityEnd...]
    } else if rest.contains("://") {
      throw CommandFailure(message: "unsupported address '\(text)': use o3://host:port/volume/bucket/key", exitCode: 2)
    }
    while rest.hasPrefix("/") { rest = rest.dropFirst() }
    var path = OzonePath(server: server)
    guard !rest.isEmpty else { return path }
    let volumeEnd = rest.firstIndex(of: "/") ?? rest.endIndex
    path.volume = String(rest[..<volumeEnd])
    rest = rest[volumeEnd...].drop { $0 == "/" }
    guard !rest.isEmpty else { return path }
    let bucketEnd = rest.firstIndex(of: "/") ?? rest.endIndex
    path.bucket = String(rest[..<bucketEnd])
    rest = rest[bucketEnd...]
    if rest.hasPrefix("/") { rest = rest.dropFirst() }
    if !rest.isEmpty { path.key = String(rest) }
    return path
  }

  func requireVolume(_ original: String) throws -> String {
    guard let volume, bucket == nil else {
      throw CommandFailure(message: "'\(original)' is not a volume address (expected /volume)", exitCode: 2)
    }
    return volume
  }

  func requireBucket(_ original: String) throws -> (volume: String, bucket: String) {
    guard let volume, let bucket, key == nil else {
      throw CommandFailure(message: "'\(original)' is not a bucket address (expected /volume/bucket)", exitCode: 2)
    }
    return (volume, bucket)
  }

  func requireKey(_ original: String) throws -> (volume: String, bucket: String, key: String) {
    guard let volume, let bucket, let key else {
      throw CommandFailure(message: "'\(original)' is not a key address (expected /volume/bucket/key)", exitCode: 2)
    }
    return (volume, bucket, key)
  }
}
