import ArgumentParser
import Foundation
import O3Common
import OzoneManager

/// `o3 local`: a ready OM on this machine with one command, data under `./o3-data`.
///
/// One replica until HA lands (issue: Ozone Manager HA); then three on 127.0.0.1.
struct LocalCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "local", abstract: "Run a local OM with its data under ./o3-data (initialised on first use).")

  @Option(name: .long, help: "Where the data and the generated ozone-site.xml go.") var dataDirectory = "o3-data"
  @Option(name: .long, help: "Client RPC port.") var port = 9862

  func run() async throws {
    O3Logging.bootstrap()
    let root = URL(fileURLWithPath: dataDirectory).standardizedFileURL.path
    var configuration = OzoneConfiguration()
    configuration[OzoneConfigKeys.metadataDirs] = "\(root)/om1"
    configuration[OzoneConfigKeys.omAddress] = "127.0.0.1:\(port)"
    try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    let configFile = "\(root)/ozone-site.xml"
    try LocalCommand.hadoopXML(configuration).write(toFile: configFile, atomically: true, encoding: .utf8)
    let settings = try OzoneManagerServer.Settings(configuration: configuration)
    if !settings.storage.isInitialized {
      try settings.storage.initialize()
    }
    FileHandle.standardError.write(
      Data(
        """
        O3 local: one OM on 127.0.0.1:\(port), data in \(root), config in \(configFile)
        Try:  o3 sh volume create /vol1 && o3 sh bucket create /vol1/bucket1 && o3 freon omkg -n 100 && o3 sh key list /vol1/bucket1
        Stop with Ctrl-C.

        """.utf8))
    try await OMCommand.serve(settings: settings)
  }

  /// The configuration as an `ozone-site.xml` file.
  static func hadoopXML(_ configuration: OzoneConfiguration) -> String {
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
