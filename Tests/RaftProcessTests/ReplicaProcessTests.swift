import Foundation
import NIOPosix
import RaftCore
import RaftKV
import RaftSimulation
import Synchronization
import O3TestSupport
import Testing

/// The Raft stack in separate processes on loopback: durable logs, RaftRPC, kill -9.
@Suite(.watchdog, .serialized) struct ReplicaProcessTests {
  private static var executable: String {
    let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("RaftKVServer")
    if FileManager.default.isExecutableFile(atPath: beside.path) { return beside.path }
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    return root.appendingPathComponent(".build/debug/RaftKVServer").path
  }

  @Test func aKilledReplicaCatchesUpFromItsLogAfterRestart() async throws {
    let replicas = ReplicaProcesses(executable: Self.executable, count: 3)
    defer { replicas.stopAll() }
    try await replicas.startAll()
    let client = KeyValueClient(servers: replicas.clientAddresses, group: MultiThreadedEventLoopGroup.singleton)
    for value in 0..<30 { #expect(await client.put("k\(value % 5)", "\(value)") == .ok("\(value)")) }
    let leader = try await Self.leader(client, replicas.ids)
    let victim = replicas.ids.first { $0 != leader }!
    await replicas.kill(victim)
    for value in 30..<60 { #expect(await client.put("k\(value % 5)", "\(value)") == .ok("\(value)")) }
    let commit = try await Self.field("commit", of: leader, client)
    try await replicas.launch(victim)
    try await replicas.announcePeers()
    try await Self.waitUntil("the restarted replica applies everything committed") {
      (try? await Self.field("applied", of: victim, client)).map { $0 >= commit } ?? false
    }
    #expect(await client.get("k4") == .ok("59"))
    await client.close()
  }

  @Test func killingTheLeaderUnderLoadLosesNoAcknowledgedWrite() async throws {
    let replicas = ReplicaProcesses(executable: Self.executable, count: 3)
    defer { replicas.stopAll() }
    try await replicas.startAll()
    let client = KeyValueClient(servers: replicas.clientAddresses, group: MultiThreadedEventLoopGroup.singleton)
    #expect(await client.put("warm-up", "x", retryForSeconds: 60) == .ok("x"))
    let history = HistoryLog()
    let workload = Task {
      await withTaskGroup(of: Void.self) { group in
        for clientID in 0..<6 {
          group.addTask { await Self.runClient(UInt64(clientID), operations: 60, client: client, history: history) }
        }
      }
    }
    try await Self.waitUntil("the workload is under way") { history.count >= 60 }
    let leader = try await Self.leader(client, replicas.ids)
    await replicas.kill(leader)
    await workload.value
    try await replicas.launch(leader)
    try await replicas.announcePeers()
    for key in ["a", "b", "c"] {
      let began = history.now()
      let outcome = await client.get(key)
      history.record(clientID: 99, input: .get(key: key), outcome: outcome, callTime: began)
    }
    let result = LinearizabilityChecker(model: KeyValueModel()).check(history.operations)
    #expect(result.isLinearizable, "\(result)")
    #expect(history.acknowledgedWrites > 50, "the workload made progress across the failover")
    await client.close()
  }

  /// One client's random puts and gets on three keys, each recorded with its outcome.
  private static func runClient(_ clientID: UInt64, operations: Int, client: KeyValueClient, history: HistoryLog) async {
    for operation in 0..<operations {
      let key = ["a", "b", "c"][(Int(clientID) + operation) % 3]
      let began = history.now()
      if operation % 3 == 2 {
        history.record(clientID: clientID, input: .get(key: key), outcome: await client.get(key, retryForSeconds: 20), callTime: began)
      } else {
        let value = "\(clientID)-\(operation)"
        let outcome = await client.put(key, value, retryForSeconds: 20)
        history.record(clientID: clientID, input: .put(key: key, value: value), outcome: outcome, callTime: began)
      }
    }
  }

  private static func leader(_ client: KeyValueClient, _ ids: [PeerID]) async throws -> PeerID {
    var found: PeerID?
    try await waitUntil("a leader is known") {
      for id in ids where (try? await client.status(of: id))?.contains("role=leader") == true {
        found = id
        return true
      }
      return false
    }
    return found!
  }

  private static func field(_ name: String, of peer: PeerID, _ client: KeyValueClient) async throws -> UInt64 {
    let status = try await client.status(of: peer)
    guard let match = status.firstMatch(of: try Regex("\(name)=(\\d+)")), let value = UInt64(match.output[1].substring ?? "")
    else { throw ReplicaProcessError(message: "no \(name) in '\(status)'") }
    return value
  }

  private static func waitUntil(_ what: String, _ condition: () async -> Bool) async throws {
    let deadline = Date().addingTimeInterval(90)
    while !(await condition()) {
      guard Date() < deadline else { throw ReplicaProcessError(message: "timed out waiting until \(what)") }
      try await Task.sleep(for: .milliseconds(20))
    }
  }
}

/// A history shared by concurrent clients, in the checker's terms. Operations that certainly
/// did not take effect are left out; those whose fate is unknown stay open-ended.
final class HistoryLog: Sendable {
  private let state = Mutex<[HistoryOperation<KeyValueInput, KeyValueOutput>]>([])
  private let start = ContinuousClock.now

  func now() -> UInt64 {
    let elapsed = ContinuousClock.now - start
    return UInt64(elapsed.components.seconds) * 1_000_000_000 + UInt64(elapsed.components.attoseconds / 1_000_000_000)
  }

  func record(clientID: UInt64, input: KeyValueInput, outcome: KeyValueOutcome, callTime: UInt64) {
    let operation: HistoryOperation<KeyValueInput, KeyValueOutput>
    switch (outcome, input) {
    case (.failed, _): return
    case (.unknown, _):
      operation = HistoryOperation(clientID: clientID, input: input, callTime: callTime, outcome: .unknown)
    case (.ok(let value), .get):
      operation = HistoryOperation(clientID: clientID, input: input, callTime: callTime, outcome: .returned(.value(value), returnTime: now()))
    case (.ok, _):
      operation = HistoryOperation(clientID: clientID, input: input, callTime: callTime, outcome: .returned(.done, returnTime: now()))
    }
    state.withLock { $0.append(operation) }
  }

  var operations: [HistoryOperation<KeyValueInput, KeyValueOutput>] { state.withLock { $0 } }
  var count: Int { state.withLock { $0.count } }
  var acknowledgedWrites: Int {
    state.withLock { $0.filter { if case .put = $0.input, $0.returnTime != nil { return true } else { return false } }.count }
  }
}
