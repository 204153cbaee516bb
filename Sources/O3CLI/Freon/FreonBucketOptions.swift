import ArgumentParser
import OzoneClient

/// Which OM, volume and bucket a key generator works in (Ozone's `-v`, `-b`, `--om-service-id`).
struct FreonBucketOptions: ParsableArguments {
  @Option(name: [.short, .long], help: "Volume of the test keys.") var volume = "vol1"
  @Option(name: [.short, .long], help: "Bucket of the test keys.") var bucket = "bucket1"
  @Option(name: .long, help: "One OM, host:port (default: the configured OM service or ozone.om.address).")
  var om: String?
  @Option(name: .customLong("om-service-id"), help: "An OM service of ozone.om.service.ids, used with failover.")
  var serviceID: String?

  func validate() throws {
    if om != nil, serviceID != nil { throw ValidationError("give --om or --om-service-id, not both") }
  }

  /// The address `ShellOptions.withClient` connects to: `o3://<om or service>/`, else the default.
  func path() throws -> OzonePath {
    try OzonePath.parse((om ?? serviceID).map { "o3://\($0)/" } ?? "/")
  }

  /// The name of the key with index `index`: `<prefix>/<index>`, as Ozone's freon names objects.
  static func keyName(prefix: String, index: Int) -> String {
    "\(prefix)/\(index)"
  }
}
