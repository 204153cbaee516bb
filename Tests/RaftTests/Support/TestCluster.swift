import Foundation
import Logging
import Raft
import RaftCore
import Testing

/// Several `RaftServer`s in one process on a `LocalNetwork`, each with its own log and
/// key-value state machine.
final class TestCluster {
  let network = LocalNetwork()
  private(set) var servers: [PeerID: RaftServer] = [:]
  private(set) var machines: [PeerID: KeyValueStateMachine] = [:]
  private(set) var logs: [PeerID: any RaftLogStore] = [:]
  let membership: Membership
  let fatalErrors = ErrorLog()

  /// - Parameter makeLog: the log store for a peer (memory by default).
  init(size: Int, makeLog: (PeerID) throws -> any RaftLogStore = { _ in MemoryLogStore() }) async throws {
    let ids = (1...UInt64(size)).map { PeerID($0) }
    membership = Membership(voters: ids, learners: [])
    for id in ids {
      logs[id] = try makeLog(id)
      try await start(id)
    }
  }

  static func configuration(_ id: PeerID) -> RaftServerConfiguration {
    var raft = RaftConfiguration(id: id)
    raft.electionTimeoutTicks = 10
    var configuration = RaftServerConfiguration(raft: raft, logDirectory: "")
    configuration.tickMilliseconds = 20
    configuration.requestTimeoutMilliseconds = 10_000
    return configuration
  }

  func start(_ id: PeerID) async throws {
    let machine = KeyValueStateMachine()
    machines[id] = machine
    var logger = Logger(label: "raft-\(id)")
    logger.logLevel = .warning
    servers[id] = try await RaftServer.start(
      configuration: Self.configuration(id), log: logs[id]!, initialMembership: membership, stateMachine: machine,
      transport: network.transport(for: id), logger: logger, onFatalError: fatalErrors.record)
  }

  func stop(_ id: PeerID) async {
    await servers[id]?.shutdown()
    servers[id] = nil
  }

  func shutdown() async {
    for id in Array(servers.keys) { await stop(id) }
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

  /// Proposes on whichever peer leads, following leader hints and retrying until a deadline.
  func put(_ key: String, _ value: String) async throws -> [UInt8] {
    let deadline = Date().addingTimeInterval(60)
    var target = try await waitForLeader()
    while true {
      let result = await propose(Array("put \(key) \(value)".utf8), on: target)
      switch result {
      case .success(let response): return response
      case .failure(let error) where Date() >= deadline: throw error
      case .failure(.notLeader(let leader?)) where servers[leader] != nil: target = leader
      case .failure: target = try await waitForLeader()
      }
    }
  }

  private func propose(_ data: [UInt8], on peer: PeerID) async -> Result<[UInt8], RaftServerError> {
    guard let server = servers[peer] else { return .failure(.stopped) }
    return await withCheckedContinuation { continuation in
      server.propose(data) { continuation.resume(returning: $0) }
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

enum ClusterError: Error {
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
