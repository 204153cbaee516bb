import O3Common
import OzoneClient
import O3TestSupport
import Testing

/// `o3://<serviceId or host:port>/volume/bucket/key` as the shell takes it.
@Suite(.watchdog) struct OzoneAddressTests {
  private let configuration = OzoneConfiguration([
    "ozone.om.service.ids": "omservice",
    "ozone.om.nodes.omservice": "om1",
    "ozone.om.address.omservice.om1": "127.0.0.1:9862",
  ])

  @Test func anAddressSplitsIntoAuthorityVolumeBucketAndKey() throws {
    #expect(
      try OzoneAddress.parse("o3://omservice/vol/b/k")
        == OzoneAddress(authority: "omservice", volume: "vol", bucket: "b", key: "k"))
    #expect(
      try OzoneAddress.parse("o3://om1.example:9862/vol/b/dir/sub/k")
        == OzoneAddress(authority: "om1.example:9862", volume: "vol", bucket: "b", key: "dir/sub/k"))
    #expect(try OzoneAddress.parse("/vol/b") == OzoneAddress(volume: "vol", bucket: "b"))
    #expect(try OzoneAddress.parse("o3:///vol") == OzoneAddress(volume: "vol"))
    #expect(try OzoneAddress.parse("o3://omservice/") == OzoneAddress(authority: "omservice"))
    #expect(try OzoneAddress.parse("vol//b/") == OzoneAddress(volume: "vol", bucket: "b"))
  }

  @Test func otherSchemesAreRefused() {
    let error = #expect(throws: OzoneAddressError.self) { try OzoneAddress.parse("ofs://omservice/vol") }
    #expect(error?.message.contains("o3://") == true)
  }

  @Test func aConfiguredServiceIDMeansThatServiceAndAnythingElseIsAnOM() throws {
    #expect(try OzoneAddress.parse("o3://omservice/vol/b/k").target(in: configuration) == .service("omservice"))
    #expect(
      try OzoneAddress.parse("o3://otherhost/vol").target(in: configuration)
        == .node(HostAndPort(host: "otherhost", port: 9862)))
    #expect(
      try OzoneAddress.parse("o3://127.0.0.1:7000/vol").target(in: configuration)
        == .node(HostAndPort(host: "127.0.0.1", port: 7000)))
  }

  @Test func withoutAnAuthorityTheConfiguredServiceOrOMIsUsed() throws {
    #expect(try OzoneAddress.parse("/vol").target(in: configuration) == .service("omservice"))
    #expect(
      try OzoneAddress.parse("/vol").target(in: OzoneConfiguration(["ozone.om.address": "0.0.0.0:9999"]))
        == .node(HostAndPort(host: "127.0.0.1", port: 9999)))
    #expect(try OzoneAddress.parse("/vol").target(in: OzoneConfiguration()) == .node(HostAndPort(host: "localhost", port: 9862)))
  }

  @Test func anAuthorityThatIsNeitherSaysWhatIsConfigured() {
    let error = #expect(throws: OzoneAddressError.self) {
      try OzoneAddress.parse("o3://host:notaport/vol").target(in: configuration)
    }
    #expect(error?.message.contains("omservice") == true)
  }
}
