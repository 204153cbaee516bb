import Foundation
import Logging
import O3Threads
import Raft
import RaftCore
import Synchronization
import Testing

/// Several `RaftServer`s in one process on a `LocalNetwork`, each with its own log and
/// key-value state machine.
/// @unchecked Sendable: `servers` and `logs` change only in `start` and `stop`, which tests call while
/// no other task uses the cluster; the state machines live in the locked `MachineRegistry`.
final class TestCluster: @unchecked Sendable {
  let network = LocalNetwork()
  private(set) var servers: [PeerID: RaftServer] = [:]
  private let registry = MachineRegistry()
  var machines: [PeerID: KeyValueStateMachine] { registry.all }
  private(set) var logs: [PeerID: any RaftLogStore] = [:]
  let membership: Membership
  let fatalErrors = ErrorLog()

  /// Where the peers' logs live; removed by `shutdown`.
  let directory: String

  /// Log segment size, purge gap and snapshot threshold: small values make purges (and so
  /// checkpoints) happen.
  let segmentSizeBytes: Int
  let purgeGap: UInt64
  let snapshotThreshold: UInt64

  let readMode: RaftConfiguration.ReadMode

  init(
    size: Int, segmentSizeBytes: Int = 64 << 20, purgeGap: UInt64 = 1_000_000, snapshotThreshold: UInt64 = 400_000,
    readMode: RaftConfiguration.ReadMode = .readIndex
  ) async throws {
    self.readMode = readMode
    self.segmentSizeBytes = segmentSizeBytes
    self.purgeGap = purgeGap
    self.snapshotThreshold = snapshotThreshold
    let ids = (1...UInt64(size)).map { PeerID($0) }
    membership = Membership(voters: ids, learners: [])
    directory = FileManager.default.temporaryDirectory.appendingPathComponent("o3-raft-\(UUID().uuidString)").path
    for id in ids {
      try await start(id)
    }
  }

  func configuration(_ id: PeerID) -> RaftServerConfiguration {
    var raft = RaftConfiguration(id: id)
    raft.electionTimeoutTicks = 10
    raft.readMode = readMode
    var configuration = RaftServerConfiguration(raft: raft)
    configuration.tickMilliseconds = 50
    configuration.requestTimeoutMilliseconds = 10_000
    configuration.purgeGap = purgeGap
    configuration.snapshotAutoTriggerThreshold = snapshotThreshold
    return configuration
  }

  /// Starts (or restarts) a peer on its log directory.
  func start(_ id: PeerID) async throws {
    var logLogger = Logger(label: "raft-log-\(id)")
    logLogger.logLevel = .warning
    // Recovery reads and fsyncs: on a thread of its own, not the cooperative pool.
    let log = try await onOwnThread("raft-log-open") { [directory, segmentSizeBytes, logLogger] in
      try DurableRaftLog.open(directory: "\(directory)/peer-\(id)", segmentSizeBytes: segmentSizeBytes, logger: logLogger)
    }
    logs[id] = log
    // A restarted peer keeps its state machine, as a real one keeps its database.
    let registry = self.registry
    let machine = registry.machine(id) { KeyValueStateMachine { leader in registry.all[leader]?.checkpoint } }
    var logger = Logger(label: "raft-\(id)")
    logger.logLevel = ProcessInfo.processInfo.environment["O3_TEST_LOG"] == nil ? .warning : .debug
    servers[id] = try await RaftServer.start(
      configuration: configuration(id), log: log, initialMembership: membership, stateMachine: machine,
      transport: network.transport(for: id), logger: logger, onFatalError: fatalErrors.record)
  }

  func stop(_ id: PeerID) async {
    await servers[id]?.shutdown()
    servers[id] = nil
    logs[id] = nil
  }

  func shutdown() async {
    for id in Array(servers.keys) { await stop(id) }
    try? FileManager.default.removeItem(atPath: directory)
  }

  /// Waits (polling, generous deadline) until some running peer is a ready leader.
  func waitForLeader(excluding excluded: Set<PeerID> = []) async throws -> PeerID {
    let deadline = Date().addingTimeInterval(60)
    while Date() < deadline {
      for (id, server) in servers where !excluded.contains(id) && server.isLeaderReady {
        return id
      }
      try await Task.sleep(for: .milliseconds(10))
    }
    throw ClusterError.noLeader
  }

  /// Proposes on whichever peer leads, following leader hints and retrying refusals until a
  /// deadline (a loaded machine may move leadership at any time).
  func put(_ key: String, _ value: String) async throws -> [UInt8] {
    try await onLeader { server, done in server.propose(Array("put \(key) \(value)".utf8), completion: done) }
  }

  /// Proposes a raw command (e.g. `compact`) on whichever peer leads.
  func propose(_ command: String) async throws -> [UInt8] {
    try await onLeader { server, done in server.propose(Array(command.utf8), completion: done) }
  }

  /// A linearizable read on whichever peer leads.
  func get(_ key: String) async throws -> String {
    String(decoding: try await onLeader { server, done in server.query(Array(key.utf8), completion: done) }, as: UTF8.self)
  }

  private func onLeader(
    _ call: (RaftServer, @escaping @Sendable (Result<[UInt8], RaftServerError>) -> Void) -> Void
  ) async throws -> [UInt8] {
    let deadline = Date().addingTimeInterval(60)
    var target = try await waitForLeader()
    while true {
      let result: Result<[UInt8], RaftServerError>
      if let server = servers[target] {
        result = await withCheckedContinuation { continuation in call(server) { continuation.resume(returning: $0) } }
      } else {
        result = .failure(.stopped)
      }
      switch result {
      case .success(let response): return response
      case .failure(let error) where Date() >= deadline: throw error
      case .failure(.notLeader(let leader?)) where servers[leader] != nil: target = leader
      case .failure: target = try await waitForLeader()
      }
    }
  }

  /// Waits until every running peer has applied the same application entries as `reference`.
  func waitForConvergence(count: Int) async throws {
    let deadline = Date().addingTimeInterval(60)
    while Date() < deadline {
      let histories = servers.keys.map { machines[$0]!.history }
      if histories.allSatisfy({ $0.count >= count }) { return }
      try await Task.sleep(for: .milliseconds(10))
    }
    throw ClusterError.noConvergence
  }
}

extension TestCluster {
  /// Polls `condition` with a generous deadline (never asserts on timing).
  func waitUntil(_ what: String, _ condition: () -> Bool) async throws {
    let deadline = Date().addingTimeInterval(60)
    while !condition() {
      if Date() > deadline { throw ClusterError.timedOut(what) }
      try await Task.sleep(for: .milliseconds(10))
    }
  }
}

enum ClusterError: Error {
  case timedOut(String)
  case noLeader
  case noConvergence
}

/// Errors reported through a fatal-error handler, for tests to inspect.
final class ErrorLog: @unchecked Sendable {
  // @unchecked: `errors` is guarded by `lock`.
  private let lock = NSLock()
  private var errors: [String] = []

  var record: @Sendable (Error) -> Void { { [self] error in lock.withLock { errors.append("\(error)") } } }
  var all: [String] { lock.withLock { errors } }
}

/// The peers' state machines, shared with the checkpoint downloads running on Raft's threads.
final class MachineRegistry: Sendable {
  private let machines = Mutex<[PeerID: KeyValueStateMachine]>([:])

  /// The peer's machine, created on first use.
  func machine(_ id: PeerID, create: () -> KeyValueStateMachine) -> KeyValueStateMachine {
    machines.withLock { machines in
      if let existing = machines[id] { return existing }
      let created = create()
      machines[id] = created
      return created
    }
  }

  var all: [PeerID: KeyValueStateMachine] { machines.withLock { $0 } }
}
