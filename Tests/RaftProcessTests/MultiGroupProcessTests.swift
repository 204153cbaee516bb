import Foundation
import NIOPosix
import O3TestSupport
import RaftCore
import RaftKV
import RaftSimulation
import Testing

/// Several Raft groups per process, all behind one Raft port (as a datanode hosts its pipelines):
/// separate processes on loopback, durable logs, kill -9.
@Suite(.watchdog, .serialized) struct MultiGroupProcessTests {
  private static let groups = Array(1...4)
  private static let clientsPerGroup = 4
  private static let operationsPerClient = 45

  private static var executable: String {
    let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("RaftKVServer")
    if FileManager.default.isExecutableFile(atPath: beside.path) { return beside.path }
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    return root.appendingPathComponent(".build/debug/RaftKVServer").path
  }

  /// Peer 1 leads groups 1 and 2 and follows in 3 and 4 when it is killed: the groups it led
  /// elect anew, the others keep their leaders; every group's history stays linearizable, and no
  /// value crosses from one group to another.
  @Test func killingOneOfThreeProcessesReelectsEveryGroupAndKeepsEachLinearizable() async throws {
    let replicas = ReplicaProcesses(executable: Self.executable, count: 3, groups: Self.groups.count)
    defer { replicas.stopAll() }
    try await replicas.startAll()
    let clients = Dictionary(uniqueKeysWithValues: Self.groups.map { group in
      (group, KeyValueClient(servers: replicas.clientAddresses, group: MultiThreadedEventLoopGroup.singleton, raftGroup: group))
    })
    for group in Self.groups {
      #expect(await clients[group]!.put("warm-up", "g\(group)-x", retryForSeconds: 60) == .ok("g\(group)-x"))
    }
    let victim: PeerID = 1
    let plannedLeaders: [Int: PeerID] = [1: victim, 2: victim, 3: 2, 4: 3]
    for group in Self.groups {
      try await Self.moveLeadership(of: group, to: plannedLeaders[group]!, clients[group]!)
    }
    for peer in replicas.ids {
      #expect(try await Self.field("raftConnections", of: peer, clients[1]!) == 2, "one connection to each other process for four groups")
    }

    let histories = Dictionary(uniqueKeysWithValues: Self.groups.map { ($0, HistoryLog()) })
    let workload = Task {
      await withTaskGroup(of: Void.self) { tasks in
        for group in Self.groups {
          for clientID in 0..<Self.clientsPerGroup {
            tasks.addTask {
              await Self.runClient(UInt64(clientID), group: group, client: clients[group]!, history: histories[group]!)
            }
          }
        }
      }
    }
    try await Self.waitUntil("every group's workload is under way") {
      Self.groups.allSatisfy { histories[$0]!.count >= 30 }
    }
    var termsBefore: [Int: UInt64] = [:]
    for group in Self.groups {
      termsBefore[group] = try await Self.field("term", of: plannedLeaders[group]!, clients[group]!)
    }
    await replicas.kill(victim)
    try await Self.waitUntil("every group has a leader among the survivors", timeout: 30) {
      for group in Self.groups {
        guard let leader = await Self.leader(of: group, among: [2, 3], clients[group]!),
          let term = try? await Self.field("term", of: leader, clients[group]!)
        else { return false }
        if plannedLeaders[group] == victim && term <= termsBefore[group]! { return false }
      }
      return true
    }
    await workload.value

    try await replicas.launch(victim)
    try await replicas.announcePeers()
    for group in Self.groups {
      let leader = try #require(await Self.leader(of: group, among: [2, 3], clients[group]!))
      let commit = try await Self.field("commit", of: leader, clients[group]!)
      try await Self.waitUntil("the restarted process applies group \(group) up to \(commit)") {
        (try? await Self.field("applied", of: victim, clients[group]!)).map { $0 >= commit } ?? false
      }
    }
    for group in Self.groups {
      let history = histories[group]!
      for key in ["a", "b", "c"] {
        let began = history.now()
        let outcome = await clients[group]!.get(key)
        history.record(clientID: 99, input: .get(key: key), outcome: outcome, callTime: began)
      }
      let result = LinearizabilityChecker(model: KeyValueModel()).check(history.operations)
      #expect(result.isLinearizable, "group \(group): \(result)")
      #expect(history.acknowledgedWrites > 100, "group \(group) made progress across the failover")
      #expect(history.valuesRead.allSatisfy { $0.hasPrefix("g\(group)-") }, "group \(group) read only its own values")
      #expect(!history.valuesRead.isEmpty)
    }
    for client in clients.values { await client.close() }
  }

  /// One client's puts and gets on keys "a", "b", "c", the same keys in every group; its values
  /// name the group, so a value read in another group would show.
  private static func runClient(_ clientID: UInt64, group: Int, client: KeyValueClient, history: HistoryLog) async {
    for operation in 0..<operationsPerClient {
      let key = ["a", "b", "c"][(Int(clientID) + operation) % 3]
      let began = history.now()
      if operation % 3 == 2 {
        history.record(clientID: clientID, input: .get(key: key), outcome: await client.get(key, retryForSeconds: 20), callTime: began)
      } else {
        let value = "g\(group)-\(clientID)-\(operation)"
        let outcome = await client.put(key, value, retryForSeconds: 20)
        history.record(clientID: clientID, input: .put(key: key, value: value), outcome: outcome, callTime: began)
      }
    }
  }

  /// Asks `group`'s leader to hand over to `target` until `target` reports it leads.
  private static func moveLeadership(of group: Int, to target: PeerID, _ client: KeyValueClient) async throws {
    try await waitUntil("peer \(target) leads group \(group)") {
      if (try? await client.status(of: target))?.contains("role=leader") == true { return true }
      _ = await client.transferLeadership(to: target, retryForSeconds: 5)
      return false
    }
  }

  /// The peer among `peers` that reports leading `group`, if any.
  private static func leader(of group: Int, among peers: [PeerID], _ client: KeyValueClient) async -> PeerID? {
    for peer in peers where (try? await client.status(of: peer))?.contains("role=leader") == true {
      return peer
    }
    return nil
  }

  private static func field(_ name: String, of peer: PeerID, _ client: KeyValueClient) async throws -> UInt64 {
    let status = try await client.status(of: peer)
    guard let match = status.firstMatch(of: try Regex("\(name)=(\\d+)")), let value = UInt64(match.output[1].substring ?? "")
    else { throw ReplicaProcessError(message: "no \(name) in '\(status)'") }
    return value
  }

  private static func waitUntil(_ what: String, timeout: Double = 90, _ condition: () async throws -> Bool) async throws {
    let deadline = Date().addingTimeInterval(timeout)
    while !(try await condition()) {
      guard Date() < deadline else { throw ReplicaProcessError(message: "timed out waiting until \(what)") }
      try await Task.sleep(for: .milliseconds(20))
    }
  }
}

extension HistoryLog {
  /// Every value a get returned (absent keys left out).
  var valuesRead: [String] {
    operations.compactMap { operation in
      guard case .get = operation.input, case .returned(.value(let value?), _) = operation.outcome else { return nil }
      return value
    }
  }
}
