import Foundation
import O3Common
import OzoneManager
import O3TestSupport
import Testing

/// `o3 local` as a user runs it: three real `o3 om` processes, the admin commands against them,
/// their HTTP ports, and a clean stop on SIGTERM.
@Suite(.watchdog, .serialized) struct LocalClusterTests {
  /// One node's entry in `o3 admin om roles --json` (Ozone's shape: `[ { "om1" : { … } } ]`).
  struct Role {
    var nodeID: String
    var fields: [String: Any]
    var serverRole: String? { fields["serverRole"] as? String }
  }

  private func roles(_ configurationFile: String) async throws -> [Role] {
    let result = try await O3Binary.run(["admin", "om", "roles", "--json", "--conf", configurationFile])
    #expect(result.exitCode == 0, "o3 admin om roles: \(result.standardError)")
    let list = try #require(result.json as? [[String: [String: Any]]], "not Ozone's roles JSON: \(result.standardOutput)")
    return list.flatMap { $0.map { Role(nodeID: $0.key, fields: $0.value) } }
  }

  /// Polls roles until `node` leads (it may take an election); the deadline is a safety net.
  private func waitForLeader(_ node: String, _ configurationFile: String) async throws -> [Role] {
    let deadline = Date().addingTimeInterval(60)
    while true {
      let current = try await roles(configurationFile)
      if current.first(where: { $0.nodeID == node })?.serverRole == "LEADER" || Date() > deadline { return current }
      try await Task.sleep(for: .milliseconds(100))
    }
  }

  @Test func localRunsThreeOMsThatElectTransferAndStopOnSIGTERM() async throws {
    let directory = TemporaryDirectory()
    let base = try LocalPorts.freeBase()
    let local = try await O3Process.o3(["local", "--base-port", "\(base)", "--data-directory", directory.path])
    let ready = await local.waitForOutput(containing: "Stop all three")
    try #require(ready, "o3 local did not report a ready service:\n\(local.standardOutput)\n\(local.standardError)")

    // The client configuration names the service as Ozone's clients expect, and says where it is.
    let clientFile = "\(directory.path)/ozone-site.xml"
    #expect(local.standardOutput.contains("export OZONE_CONF_DIR=\(directory.path)"))
    #expect(local.standardOutput.contains("o3 sh volume create o3://omservice/vol1"))
    let client = try OzoneConfigurationFile(clientFile)
    #expect(client["ozone.om.service.ids"] == "omservice")
    #expect(client["ozone.om.nodes.omservice"] == "om1,om2,om3")
    #expect(client["ozone.om.address.omservice.om2"] == "127.0.0.1:\(base + 100)")
    #expect(client["ozone.om.ratis.port.omservice.om3"] == "\(base + 210)")
    #expect(client["ozone.om.http-address.omservice.om1"] == "127.0.0.1:\(base + 12)")
    #expect(client["ozone.om.node.id"] == nil)
    let om2 = try OzoneConfigurationFile("\(directory.path)/om2/ozone-site.xml")
    #expect(om2["ozone.om.node.id"] == "om2")
    #expect(om2["ozone.metadata.dirs"] == "\(directory.path)/om2")

    // With OZONE_CONF_DIR set as printed, the shell reaches the service by its id.
    let shellEnvironment = ["OZONE_CONF_DIR": directory.path]
    let create = try await O3Binary.run(["sh", "volume", "create", "o3://omservice/vol1"], environment: shellEnvironment)
    #expect(create.exitCode == 0, "o3 sh volume create: \(create.standardError)")

    // Exactly one leader, every node answering, all in the leader's term.
    let initial = try await roles(clientFile)
    #expect(initial.map(\.nodeID) == ["om1", "om2", "om3"])
    let leaders = initial.filter { $0.serverRole == "LEADER" }
    try #require(leaders.count == 1, "roles: \(initial.map { ($0.nodeID, $0.serverRole ?? "-") })")
    let leader = leaders[0]
    #expect(initial.allSatisfy { $0.fields["hostname"] as? String == "127.0.0.1" })
    #expect(initial.allSatisfy { $0.serverRole == "LEADER" || $0.serverRole == "FOLLOWER" })
    #expect(initial.allSatisfy { $0.fields["lag"] is Int })

    // The table form: Ozone's "om1 : LEADER (host)" line, term and lag after it.
    let table = try await O3Binary.run(["admin", "om", "roles", "--conf", clientFile])
    #expect(table.standardOutput.contains("\(leader.nodeID) : LEADER (127.0.0.1) term="))

    // Every OM's HTTP port: the leader's /prom has the Raft gauges and each member's lag; a
    // follower's status page names the leader.
    let target = try #require(initial.first { $0.serverRole == "FOLLOWER" }).nodeID
    let httpPort = { (node: String) in base + 12 + 100 * (Int(node.dropFirst(2))! - 1) }
    let prom = try await HTTP.request(port: httpPort(leader.nodeID), path: "/prom")
    #expect(prometheusValue(prom.body, "o3_om_raft_is_leader") == 1)
    #expect(prometheusValue(prom.body, "o3_om_raft_term") == Double(leader.fields["term"] as? Int ?? -1))
    for node in ["om1", "om2", "om3"] {
      #expect(prom.body.contains("o3_om_raft_follower_lag_entries{node=\"\(node)\"} "))
    }
    let followerPage = try await HTTP.request(port: httpPort(target), path: "/")
    #expect(followerPage.body.contains("<th>Role</th><td>FOLLOWER</td>"))
    #expect(followerPage.body.contains("<th>Leader</th><td>\(leader.nodeID)</td>"))

    // Transfer to a named follower, then -r to whichever follower is most up to date.
    let transfer = try await O3Binary.run(["admin", "om", "transfer", "-n", target, "--conf", clientFile])
    #expect(transfer.exitCode == 0, "transfer: \(transfer.standardError)")
    #expect(transfer.standardOutput.contains("to \(target)"))
    let afterTransfer = try await waitForLeader(target, clientFile)
    #expect(afterTransfer.first { $0.nodeID == target }?.serverRole == "LEADER")
    #expect(afterTransfer.first { $0.nodeID == leader.nodeID }?.serverRole == "FOLLOWER")
    let newTerm = try #require(afterTransfer.first { $0.nodeID == target }?.fields["term"] as? Int)
    #expect(newTerm > leader.fields["term"] as? Int ?? Int.max)

    let random = try await O3Binary.run(["admin", "om", "transfer", "-r", "--conf", clientFile])
    #expect(random.exitCode == 0, "transfer -r: \(random.standardError)")
    let randomLeader = try #require(random.standardOutput.firstMatch(of: /to (om\d)/)).1
    #expect(String(randomLeader) != target)

    let info = try await O3Binary.run(["sh", "volume", "info", "o3://omservice/vol1"], environment: shellEnvironment)
    #expect(info.exitCode == 0, "o3 sh volume info after two transfers: \(info.standardError)")
    #expect((info.json as? [String: Any])?["name"] as? String == "vol1")

    let unknown = try await O3Binary.run(["admin", "om", "transfer", "-n", "om9", "--conf", clientFile])
    #expect(unknown.exitCode == 2)
    #expect(unknown.standardError.contains("om9 is not a node of the service"))

    // SIGTERM stops all three cleanly: exit 0, each OM logged its shutdown, every port is free.
    #expect(await local.terminate() == 0, "o3 local: \(local.standardError)")
    for node in ["om1", "om2", "om3"] {
      let log = try String(contentsOfFile: "\(directory.path)/\(node)/om.log", encoding: .utf8)
      #expect(log.contains("OM stopped"), "\(node)'s log: \(log.suffix(2000))")
    }
    let layout = try LocalServiceLayout(root: directory.path, basePort: base)
    #expect(layout.portsWithKeys.allSatisfy { PortProbe.isFree(host: "127.0.0.1", port: $0.port) })
  }

  @Test func localRefusesATakenPortAndNamesItsKey() async throws {
    let directory = TemporaryDirectory()
    let base = try LocalPorts.freeBase()
    let squatter = try ListeningSocket(port: base + 110)
    let result = try await O3Binary.run(["local", "--base-port", "\(base)", "--data-directory", directory.path])
    #expect(result.exitCode == 1)
    #expect(
      result.standardError.contains("port \(base + 110) (ozone.om.ratis.port.omservice.om2)"),
      "stderr: \(result.standardError)")
    #expect(!FileManager.default.fileExists(atPath: "\(directory.path)/om1/om.log"), "no OM was started")
    squatter.close()
  }
}

/// The properties of an `ozone-site.xml`, read with the same parser the OMs use.
struct OzoneConfigurationFile {
  private let configuration: OzoneConfiguration

  init(_ path: String) throws {
    configuration = try OzoneConfiguration(contentsOf: path)
  }

  subscript(key: String) -> String? { configuration[key] }
}

/// A data directory from an older single-OM `o3 local` must not be mixed into a new service.
@Suite(.watchdog) struct LocalDataDirectoryTests {
  @Test func localRefusesADirectoryWhereOnlySomeOMsHoldData() async throws {
    let directory = TemporaryDirectory()
    let initialise = try await O3Binary.run(["om", "--init", "--set", "ozone.metadata.dirs=\(directory.path)/om1"])
    try #require(initialise.exitCode == 0, "o3 om --init: \(initialise.standardError)")
    let result = try await O3Binary.run(["local", "--base-port", "\(try LocalPorts.freeBase())", "--data-directory", directory.path])
    #expect(result.exitCode == 1)
    #expect(result.standardError.contains("only om1 of om1, om2, om3 hold data in \(directory.path)"), "stderr: \(result.standardError)")
    #expect(!FileManager.default.fileExists(atPath: "\(directory.path)/om2/om/current/VERSION"), "nothing was initialised")
  }
}
