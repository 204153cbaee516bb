import Foundation
import O3TestSupport
import Testing

/// `o3 admin om roles` when the OMs are not running: one readable line per OM, not NIO's error.
@Suite(.watchdog) struct RolesCommandLineTests {
  @Test func stoppedOMsAreUnreachableWithTheReasonInAFewWords() async throws {
    // Ports nobody listens on, handed out to this test alone.
    let ports = try FreePorts.allocate(2)
    let service = [
      "--set", "ozone.om.service.ids=svc", "--set", "ozone.om.nodes.svc=om1,om2",
      "--set", "ozone.om.address.svc.om1=127.0.0.1:\(ports[0])", "--set", "ozone.om.address.svc.om2=127.0.0.1:\(ports[1])",
    ]
    let table = try await O3Binary.run(["admin", "om", "roles"] + service)
    #expect(table.exitCode == 255)
    #expect(
      table.standardOutput == """
        om1 : UNREACHABLE (127.0.0.1:\(ports[0]): connection refused)
        om2 : UNREACHABLE (127.0.0.1:\(ports[1]): connection refused)

        """)
    #expect(table.standardError == "no OM of the service answered; are they running?\n")

    let json = try await O3Binary.run(["admin", "om", "roles", "--json"] + service)
    let entries = try #require(json.json as? [[String: [String: Any]]], "\(json.standardOutput)")
    #expect(entries.first?["om1"]?["serverRole"] as? String == "UNREACHABLE")
    #expect(entries.first?["om1"]?["error"] as? String == "UNREACHABLE 127.0.0.1:\(ports[0]): connection refused")
  }
}
