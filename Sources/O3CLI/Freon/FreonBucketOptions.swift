import ArgumentParser
import OzoneClient

/// Which OM, volume and bucket a key generator works in (Ozone's `-v`, `-b`, `--om-service-id`).
struct FreonBucketOptions: ParsableArguments {
  @Option(name: [.short, .long], help: "Volume of the test keys.") var volume = "vol1"
  @Option(name: [.short, .long], help: "Bucket of the test keys.") var bucket = "bucket1"
  @OptionGroup var service: FreonServiceOptions

  /// The address `ShellOptions.withClient` connects to.
  func path() throws -> OzonePath {
    try service.path()
  }

  /// The name of the key with index `index`: `<prefix>/<index>`, as Ozone's freon names objects.
  static func keyName(prefix: String, index: Int) -> String {
    "\(prefix)/\(index)"
  }
}
