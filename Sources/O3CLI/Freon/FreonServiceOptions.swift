import ArgumentParser

/// Which OM a freon generator talks to (Ozone's `--om-service-id`, plus O3's `--om host:port`).
struct FreonServiceOptions: ParsableArguments {
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
}
