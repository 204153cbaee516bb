import O3Common
import OzoneClient
import O3TestSupport
import Testing

/// Reading Ozone's OM service and client failover keys; every malformed value names its key.
@Suite(.watchdog) struct ServiceConfigurationTests {
  private let threeNodes = OzoneConfiguration([
    "ozone.om.service.ids": "omservice",
    "ozone.om.nodes.omservice": "om1, om2 ,om3",
    "ozone.om.address.omservice.om1": "host1",
    "ozone.om.address.omservice.om2": "host2:9000",
    "ozone.om.address.omservice.om3": "0.0.0.0:9001",
  ])

  @Test func nodesAreReadInConfiguredOrderWithTheDefaultPort() throws {
    let service = try OMServiceAddresses(configuration: threeNodes)
    #expect(service.serviceID == "omservice")
    #expect(
      service.nodes == [
        OMNodeAddress(nodeID: "om1", address: HostAndPort(host: "host1", port: 9862)),
        OMNodeAddress(nodeID: "om2", address: HostAndPort(host: "host2", port: 9000)),
        // A wildcard is where a server listens; a client calls this machine.
        OMNodeAddress(nodeID: "om3", address: HostAndPort(host: "127.0.0.1", port: 9001)),
      ])
    #expect(try OMServiceAddresses(configuration: threeNodes, serviceID: "omservice") == service)
  }

  @Test func withoutServiceIDsTheClientCallsTheSingleOM() throws {
    let unset = try OMServiceAddresses(configuration: OzoneConfiguration())
    #expect(unset.serviceID == nil)
    #expect(unset.nodes == [OMNodeAddress(nodeID: "om1", address: HostAndPort(host: "localhost", port: 9862))])
    let configured = try OMServiceAddresses(configuration: OzoneConfiguration(["ozone.om.address": "om.example:7000"]))
    #expect(configured.nodes.map(\.address) == [HostAndPort(host: "om.example", port: 7000)])
  }

  @Test func eachMissingOrMalformedValueNamesItsKey() {
    var noNodes = threeNodes
    noNodes["ozone.om.nodes.omservice"] = nil
    var noAddress = threeNodes
    noAddress["ozone.om.address.omservice.om2"] = nil
    var badPort = threeNodes
    badPort["ozone.om.address.omservice.om3"] = "host3:99999"
    var twice = threeNodes
    twice["ozone.om.nodes.omservice"] = "om1,om2,om1"
    var several = threeNodes
    several["ozone.om.service.ids"] = "omservice,other"
    let cases: [(OzoneConfiguration, String?, String)] = [
      (noNodes, nil, "ozone.om.nodes.omservice"),
      (noAddress, nil, "ozone.om.address.omservice.om2"),
      (badPort, nil, "ozone.om.address.omservice.om3"),
      (twice, nil, "ozone.om.nodes.omservice"),
      (several, nil, "ozone.om.service.ids"),
      (threeNodes, "unknown", "ozone.om.service.ids"),
      (OzoneConfiguration(), "omservice", "ozone.om.service.ids"),
      (OzoneConfiguration(["ozone.om.address": "host:port"]), nil, "ozone.om.address"),
    ]
    for (configuration, serviceID, key) in cases {
      let error = #expect(throws: ConfigurationError.self) {
        try OMServiceAddresses(configuration: configuration, serviceID: serviceID)
      }
      #expect(error?.key == key)
      #expect(error?.description.contains(key) == true)
    }
  }

  @Test func severalServicesAreFineWhenOneIsNamed() throws {
    var configuration = threeNodes
    configuration["ozone.om.service.ids"] = "other,omservice"
    #expect(OMServiceAddresses.serviceIDs(in: configuration) == ["other", "omservice"])
    #expect(try OMServiceAddresses(configuration: configuration, serviceID: "omservice").nodes.count == 3)
  }

  @Test func failoverKeysHaveOzoneDefaultsAndAcceptDurations() throws {
    #expect(try OMFailoverPolicy(configuration: OzoneConfiguration()) == OMFailoverPolicy(maxAttempts: 500, waitBetweenRetriesMilliseconds: 2000))
    let configured = try OMFailoverPolicy(
      configuration: OzoneConfiguration([
        "ozone.client.failover.max.attempts": "6", "ozone.client.wait.between.retries.millis": "2s",
      ]))
    #expect(configured.maxAttempts == 6)
    #expect(configured.waitBetweenRetriesMilliseconds == 2000)
  }

  @Test func malformedFailoverKeysAreNamed() {
    let cases: [(String, String)] = [
      ("ozone.client.failover.max.attempts", "many"),
      ("ozone.client.failover.max.attempts", "-1"),
      ("ozone.client.wait.between.retries.millis", "soon"),
      ("ozone.client.wait.between.retries.millis", "-5"),
    ]
    for (key, value) in cases {
      let error = #expect(throws: ConfigurationError.self) {
        try OMFailoverPolicy(configuration: OzoneConfiguration([key: value]))
      }
      #expect(error?.key == key)
    }
  }

  @Test func connectReportsConfigurationErrorsBeforeAnyCall() async {
    var configuration = threeNodes
    configuration["ozone.client.failover.max.attempts"] = "lots"
    let error = await #expect(throws: ConfigurationError.self) {
      try await OzoneClient.connect(configuration: configuration, userName: "alice")
    }
    #expect(error?.key == "ozone.client.failover.max.attempts")
  }
}
