import OzoneClient

/// An address as `ozone sh` takes it: `[o3://<serviceId or host:port>]/volume[/bucket[/key]]`.
///
/// The parsing itself is `OzoneAddress` (OzoneClient); this adds the shell's usage errors.
struct OzonePath: Equatable {
  var address: OzoneAddress

  var volume: String? { address.volume }
  var bucket: String? { address.bucket }
  var key: String? { address.key }

  static func parse(_ text: String) throws -> OzonePath {
    do {
      return OzonePath(address: try OzoneAddress.parse(text))
    } catch let error as OzoneAddressError {
      throw CommandFailure(message: error.message, exitCode: 2)
    }
  }

  /// Ozone's `ensureRootAddress`: commands over the whole store (`volume list`) take `/` or
  /// `o3://<serviceId or host:port>/` and refuse a volume, bucket or key rather than ignore it.
  func requireRoot(_ original: String) throws {
    guard let volume else { return }
    let root = address.authority.map { "\(OzoneAddress.scheme)\($0)/" } ?? "/"
    throw CommandFailure(
      message: "'\(original)' is not a root address (expected \(root)); "
        + "to list the buckets of volume \(volume): o3 sh bucket list \(root)\(volume)", exitCode: 2)
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
