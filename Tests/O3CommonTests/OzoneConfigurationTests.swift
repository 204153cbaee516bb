import Foundation
import O3Common
import O3TestSupport
import Testing

@Suite(.watchdog) struct OzoneConfigurationTests {
  @Test func readsHadoopSiteXMLAndAppliesOverrides() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("o3-conf-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let file = directory.appendingPathComponent("ozone-site.xml")
    try """
    <?xml version="1.0"?>
    <!-- a comment -->
    <configuration>
      <property><name>ozone.metadata.dirs</name><value>/data/meta</value></property>
      <property>
        <name>ozone.om.address</name>
        <value> om1.example.com:9999 </value>
        <description>ignored</description>
      </property>
      <property><name>x.amp</name><value>a &amp; b</value></property>
    </configuration>
    """.write(to: file, atomically: true, encoding: .utf8)

    let configuration = try OzoneConfiguration.load(
      file: nil, overrides: ["ozone.om.unflushed.transaction.max.count=5"], environment: ["OZONE_CONF_DIR": directory.path])
    #expect(configuration["ozone.metadata.dirs"] == "/data/meta")
    #expect(configuration["x.amp"] == "a & b")
    #expect(try configuration.hostAndPort("ozone.om.address", defaultHost: "h", defaultPort: 1) == HostAndPort(host: "om1.example.com", port: 9999))
    #expect(try configuration.integer("ozone.om.unflushed.transaction.max.count", default: 10_000) == 5)
    #expect(try configuration.integer("missing.key", default: 7) == 7)
  }

  @Test func malformedValuesNameTheirKey() throws {
    let configuration = OzoneConfiguration(["a.int": "ten", "a.bool": "yes", "a.size": "12XB", "a.port": "h:99999"])
    #expect(throws: ConfigurationError.self) { try configuration.integer("a.int", default: 0) }
    do {
      _ = try configuration.boolean("a.bool", default: false)
      Issue.record("expected an error")
    } catch let error as ConfigurationError {
      #expect(error.key == "a.bool")
      #expect(error.description.contains("a.bool"))
    }
    #expect(throws: ConfigurationError.self) { try configuration.bytes("a.size", default: 0) }
    #expect(throws: ConfigurationError.self) { try configuration.hostAndPort("a.port", defaultHost: "x", defaultPort: 1) }
  }

  @Test func invalidFilesAndOverridesAreClearErrors() throws {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID().uuidString).xml").path
    try "<configuration><property><name>a</name>".write(toFile: path, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(atPath: path) }
    #expect(throws: ConfigurationError.self) { try OzoneConfiguration(contentsOf: path) }
    #expect(throws: ConfigurationError.self) { try OzoneConfiguration(contentsOf: "/nonexistent/ozone-site.xml") }
    var configuration = OzoneConfiguration()
    #expect(throws: ConfigurationError.self) { try configuration.apply(override: "no-equals-sign") }
    try configuration.apply(override: "k = v=w")
    #expect(configuration["k"] == "v=w")
  }

  @Test func sizesUsePowersOf1024CaseInsensitively() throws {
    #expect(try StorageSize.parse("10GB") == 10_737_418_240)
    #expect(try StorageSize.parse("10gb") == 10_737_418_240)
    #expect(try StorageSize.parse("1KB") == 1024)
    #expect(try StorageSize.parse("512") == 512)
    #expect(try StorageSize.parse("3 MB") == 3 << 20)
    #expect(throws: StorageSize.ParseError.self) { try StorageSize.parse("-1GB") }
    #expect(throws: StorageSize.ParseError.self) { try StorageSize.parse("GB") }
    #expect(throws: StorageSize.ParseError.self) { try StorageSize.parse("99999999EB") }
  }

  @Test func durationsAndAddresses() throws {
    let configuration = OzoneConfiguration(["a": "5s", "b": "300ms", "c": "2m", "d": "7"])
    #expect(try configuration.milliseconds("a", default: 0) == 5000)
    #expect(try configuration.milliseconds("b", default: 0) == 300)
    #expect(try configuration.milliseconds("c", default: 0) == 120_000)
    #expect(try configuration.milliseconds("d", default: 0, bareUnitMilliseconds: 1000) == 7000)
    #expect(try HostAndPort.parse("[::1]:9862", defaultPort: 1) == HostAndPort(host: "::1", port: 9862))
    #expect(try HostAndPort.parse("localhost", defaultPort: 9862) == HostAndPort(host: "localhost", port: 9862))
    #expect(throws: ConfigurationError.self) { try HostAndPort.parse(":9862", defaultPort: 1) }
  }
}
