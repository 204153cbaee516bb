import Foundation
import O3TestSupport
import Testing

/// One SCM and three datanodes as real processes: registration, safe mode, health as datanodes
/// die and return, identity and volumes across a restart.
@Suite(.watchdog, .serialized) struct DatanodeProcessTests {
  /// Starts `o3 <arguments>` and waits for `marker` in its log.
  private func start(_ arguments: [String], until marker: String) async throws -> ManagedProcess {
    let process = try await ManagedProcess.start(executable: O3Binary.path, arguments: arguments, output: .collected)
    try await waitUntil("o3 \(arguments[0]) logs '\(marker)'", timeout: .seconds(120)) {
      guard process.isRunning else { throw OMProcessError(message: "o3 \(arguments[0]) ended: \(process.standardError)") }
      return process.standardError.contains(marker)
    }
    return process
  }

  private func datanodes(_ clientPort: Int, state: String? = nil) async throws -> [[String: Any]] {
    var arguments = ["admin", "datanode", "list", "--json", "--scm", "127.0.0.1:\(clientPort)"]
    if let state { arguments += ["--node-state", state] }
    let listed = try await O3Binary.run(arguments)
    #expect(listed.exitCode == 0, "\(listed.standardError)")
    return (listed.json as? [[String: Any]]) ?? []
  }

  @Test func datanodesRegisterGoStaleAndDeadAndComeBack() async throws {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("o3-dn-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: root) }
    let initialised = try await O3Binary.run(["scm", "--init", "--set", "ozone.metadata.dirs=\(root)/scm"])
    #expect(initialised.exitCode == 0, "\(initialised.standardError)")
    let ports = try FreePorts.allocate(4)
    let scm = try await start(
      [
        "scm", "--set", "ozone.metadata.dirs=\(root)/scm", "--set", "ozone.scm.client.address=127.0.0.1:\(ports[0])",
        "--set", "ozone.scm.block.client.address=127.0.0.1:\(ports[1])",
        "--set", "ozone.scm.datanode.address=127.0.0.1:\(ports[2])", "--set", "ozone.scm.ratis.port=\(ports[3])",
        "--set", "ozone.scm.http-address=127.0.0.1:0", "--set", "hdds.scm.safemode.min.datanode=3",
        "--set", "ozone.scm.stale.node.interval=3s", "--set", "ozone.scm.dead.node.interval=6s",
        "--set", "ozone.scm.heartbeat.thread.interval=500ms",
      ], until: "SCM started")
    defer { scm.sendKill() }
    let inSafeMode = try await O3Binary.run(["admin", "safemode", "status", "--verbose", "--scm", "127.0.0.1:\(ports[0])"])
    #expect(
      inSafeMode.standardOutput
        == "SCM is in safe mode.\nvalidated:false, DataNodeSafeModeRule, registered datanodes (=0) >= required datanodes (=3)\n")

    func datanodeArguments(_ number: Int) -> [String] {
      [
        "datanode", "--set", "ozone.metadata.dirs=\(root)/dn\(number)/meta",
        "--set", "hdds.datanode.dir=\(root)/dn\(number)/disk1,\(root)/dn\(number)/disk2",
        "--set", "ozone.scm.datanode.address=127.0.0.1:\(ports[2])", "--set", "hdds.datanode.http-address=127.0.0.1:0",
        "--set", "hdds.heartbeat.interval=500ms", "--set", "hdds.heartbeat.initial-interval=200ms",
      ]
    }
    var dns: [ManagedProcess] = []
    for number in 1...3 { dns.append(try await start(datanodeArguments(number), until: "registered with SCM")) }
    defer { for dn in dns { dn.sendKill() } }

    try await waitUntil("three datanodes are HEALTHY", timeout: .seconds(60)) {
      try await datanodes(ports[0], state: "HEALTHY").count == 3
    }
    let listed = try await datanodes(ports[0])
    #expect(Set(listed.compactMap { $0["totalVolumeCount"] as? Int }) == [2], "two volumes each: \(listed)")
    let wait = try await O3Binary.run(["admin", "safemode", "wait", "-t", "30", "--scm", "127.0.0.1:\(ports[0])"])
    #expect(wait.exitCode == 0 && wait.standardOutput.hasSuffix("SCM is out of safe mode.\n"), "\(wait.standardOutput)")

    // Each volume is formatted for the cluster, with this datanode's uuid.
    let identity = try String(contentsOfFile: "\(root)/dn1/meta/datanode.id", encoding: .utf8)
    let uuid = try #require(identity.firstMatch(of: /uuid: ([0-9a-f-]{36})/)?.1).description
    let version = try String(contentsOfFile: "\(root)/dn1/disk2/hdds/VERSION", encoding: .utf8)
    #expect(version.contains("datanodeUuid=\(uuid)") && version.contains("clusterID=CID-") && version.contains("storageID=DS-"))

    // kill -9 one: STALE, then DEAD; the others stay HEALTHY.
    await dns[0].kill()
    try await waitUntil("the killed datanode is STALE or DEAD", timeout: .seconds(60)) {
      try await datanodes(ports[0]).contains { $0["id"] as? String == uuid && $0["healthState"] as? String != "HEALTHY" }
    }
    try await waitUntil("the killed datanode is DEAD", timeout: .seconds(60)) {
      try await datanodes(ports[0], state: "DEAD").map { $0["id"] as? String } == [uuid]
    }
    #expect(try await datanodes(ports[0], state: "HEALTHY").count == 2)

    // Restarted, it keeps its identity and is HEALTHY again.
    dns[0] = try await start(datanodeArguments(1), until: "registered with SCM")
    try await waitUntil("the restarted datanode is HEALTHY", timeout: .seconds(60)) {
      try await datanodes(ports[0], state: "HEALTHY").contains { $0["id"] as? String == uuid }
    }
    #expect(try await datanodes(ports[0]).count == 3, "the same uuid, not a fourth node")
    for dn in dns { #expect(await dn.terminate() == 0, "a datanode stops cleanly on SIGTERM") }
    #expect(await scm.terminate() == 0)
  }
}
