import Foundation
import O3TestSupport
import Testing

/// `o3 admin om prepare` and `cancelprepare` as an operator runs them before an upgrade: the real
/// `o3` binary against the three OM processes of `o3 local`.
@Suite(.watchdog, .serialized) struct PrepareCommandTests {
  @Test func prepareRefusesWritesUntilCancelPrepare() async throws {
    let directory = TemporaryDirectory()
    let base = try LocalPorts.freeBase()
    let local = try await O3Process.o3(["local", "--base-port", "\(base)", "--data-directory", directory.path])
    let ready = await local.waitForOutput(containing: "Stop all three")
    try #require(ready, "o3 local did not report a ready service:\n\(local.standardOutput)\n\(local.standardError)")
    let clientFile = "\(directory.path)/ozone-site.xml"
    let shell = ["OZONE_CONF_DIR": directory.path]
    let create = try await O3Binary.run(["sh", "volume", "create", "o3://omservice/before"], environment: shell)
    #expect(create.exitCode == 0, "o3 sh volume create: \(create.standardError)")

    let prepare = try await O3Binary.run(["admin", "om", "prepare", "--conf", clientFile, "--prepare-check-interval", "0.2"])
    #expect(prepare.exitCode == 0, "o3 admin om prepare: \(prepare.standardOutput)\n\(prepare.standardError)")
    let index = try #require(
      prepare.standardOutput.firstMatch(of: /successfully returned with Transaction Id : \[(\d+)\]/).map { UInt64($0.1) },
      "no transaction id in: \(prepare.standardOutput)")
    for node in ["om1", "om2", "om3"] {
      #expect(
        prepare.standardOutput.contains("OM : [\(node)], Prepare Status : [PREPARE_COMPLETED], Current Transaction Id : [\(index!)]"),
        "\(prepare.standardOutput)")
    }
    #expect(prepare.standardOutput.contains("OM Preparation successful!"))
    #expect(prepare.standardOutput.contains("All OMs are prepared"))

    let refused = try await O3Binary.run(["sh", "volume", "create", "o3://omservice/during"], environment: shell)
    #expect(refused.exitCode != 0)
    #expect(refused.standardError.contains("NOT_SUPPORTED_OPERATION_WHEN_PREPARED"), "stderr: \(refused.standardError)")
    #expect(refused.standardError.contains("prepare mode"), "stderr: \(refused.standardError)")
    let read = try await O3Binary.run(["sh", "volume", "info", "o3://omservice/before"], environment: shell)
    #expect(read.exitCode == 0, "reads are served while prepared: \(read.standardError)")
    for node in ["om1", "om2", "om3"] {
      let marker = "\(directory.path)/\(node)/om/current/prepareMarker"
      #expect(try String(contentsOfFile: marker, encoding: .utf8) == "\(index!)", "\(node)'s prepareMarker")
      let port = base + 12 + 100 * (Int(node.dropFirst(2))! - 1)
      let prom = try await HTTP.request(port: port, path: "/prom")
      #expect((prometheusValue(prom.body, "o3_om_raft_last_snapshot_index") ?? 0) >= Double(index!), "\(node) purged at Prepare")
      #expect(prometheusValue(prom.body, "o3_om_raft_log_segments") != nil)
    }

    let cancel = try await O3Binary.run(["admin", "om", "cancelprepare", "--conf", clientFile])
    #expect(cancel.exitCode == 0, "o3 admin om cancelprepare: \(cancel.standardError)")
    #expect(cancel.standardOutput.contains("Cancel prepare succeeded"))
    let after = try await O3Binary.run(["sh", "volume", "create", "o3://omservice/after"], environment: shell)
    #expect(after.exitCode == 0, "writes are accepted after cancelprepare: \(after.standardError)")
    let markers = ["om1", "om2", "om3"].map { "\(directory.path)/\($0)/om/current/prepareMarker" }
    let deadline = Date().addingTimeInterval(60)
    while markers.contains(where: FileManager.default.fileExists(atPath:)) && Date() < deadline {
      try await Task.sleep(for: .milliseconds(50))
    }
    #expect(!markers.contains(where: FileManager.default.fileExists(atPath:)), "every OM applied CancelPrepare")
    #expect(await local.terminate() == 0, "o3 local: \(local.standardError)")
  }
}
