import Foundation
import O3TestSupport
import Testing

/// `o3 scm` as a user runs it: --init, a start, `o3 admin scm roles`, a clean stop.
@Suite(.watchdog) struct SCMCommandTests {
  @Test func initStartRolesAndStop() async throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("o3-scm-cli-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let notYet = try await O3Binary.run(["scm", "--set", "ozone.metadata.dirs=\(directory)"])
    #expect(notYet.exitCode == 1)
    #expect(notYet.standardError.contains("o3 scm --init"), "\(notYet.standardError)")

    let badCluster = try await O3Binary.run(["scm", "--init", "--clusterid", "nope", "--set", "ozone.metadata.dirs=\(directory)"])
    #expect(badCluster.exitCode == 1 && badCluster.standardError.contains("is not a UUID"), "\(badCluster.standardError)")
    let initialised = try await O3Binary.run(["scm", "--init", "--set", "ozone.metadata.dirs=\(directory)"])
    #expect(initialised.exitCode == 0, "\(initialised.standardError)")
    #expect(initialised.standardOutput.contains("SCM storage initialised at \(directory)"))
    let again = try await O3Binary.run(["scm", "--init", "--set", "ozone.metadata.dirs=\(directory)"])
    #expect(again.exitCode == 1 && again.standardError.contains("already initialised"))

    let scm = try await ManagedProcess.start(
      executable: O3Binary.path,
      arguments: [
        "scm", "--set", "ozone.metadata.dirs=\(directory)", "--set", "ozone.scm.client.address=127.0.0.1:0",
        "--set", "ozone.scm.block.client.address=127.0.0.1:0", "--set", "ozone.scm.datanode.address=127.0.0.1:0",
        "--set", "ozone.scm.ratis.port=0",
      ],
      output: .collected)
    var clientPort = 0
    var raftPort = 0
    try await waitUntil("the SCM says it started", timeout: .seconds(120)) {
      guard scm.isRunning else { throw OMProcessError(message: "o3 scm ended: \(scm.standardError)") }
      guard let client = scm.standardError.firstMatch(of: /client=127\.0\.0\.1:(\d+)/),
        let raft = scm.standardError.firstMatch(of: /raft=127\.0\.0\.1:(\d+)/)
      else { return false }
      clientPort = Int(client.1)!
      raftPort = Int(raft.1)!
      return true
    }
    let roles = try await O3Binary.run(["admin", "scm", "roles", "--scm", "127.0.0.1:\(clientPort)"])
    #expect(roles.exitCode == 0, "\(roles.standardError)")
    #expect(roles.standardOutput == "127.0.0.1:\(raftPort):LEADER:scm1:127.0.0.1\n")
    let json = try await O3Binary.run(["admin", "scm", "roles", "--json", "--scm", "127.0.0.1:\(clientPort)"])
    let object = try #require(json.json as? [String: [String: String]], "\(json.standardOutput)")
    #expect(object["127.0.0.1"]?["raftPeerRole"] == "LEADER")
    #expect(object["127.0.0.1"]?["address"] == "127.0.0.1:\(raftPort)")

    #expect(await scm.terminate() == 0, "SIGTERM stops the SCM cleanly")
    #expect(scm.standardError.contains("SCM stopped"))
    let unreachable = try await O3Binary.run(["admin", "scm", "roles", "--scm", "127.0.0.1:\(clientPort)"])
    #expect(unreachable.exitCode == 255)
    #expect(unreachable.standardError.contains("connection refused"), "\(unreachable.standardError)")
  }
}
