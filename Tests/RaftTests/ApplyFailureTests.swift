import Foundation
import Logging
import O3TestSupport
import O3Threads
import Raft
import RaftCore
import Synchronization
import Testing

/// A state machine's failure is fatal to its replica: reported once, and nothing applied after
/// it. A process that exits on the report never sees the difference; one that hosts several
/// groups stops only the failed one, and meanwhile it must not apply entries past the failure.
@Suite(.watchdog) struct ApplyFailureTests {
  @Test func nothingIsAppliedAfterTheStateMachineFailsAndTheFailureIsReportedOnce() async throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("o3-apply-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let log = try await onOwnThread("raft-log-open") {
      try DurableRaftLog.open(directory: directory, logger: Logger(label: "apply-failure-log"))
    }
    var configuration = RaftServerConfiguration(raft: RaftConfiguration(id: 1))
    configuration.tickMilliseconds = 50
    let machine = PoisonableStateMachine()
    let fatalErrors = ErrorLog()
    let server = try await RaftServer.start(
      configuration: configuration, log: log, initialMembership: Membership(voters: [1], learners: []),
      stateMachine: machine, transport: LocalNetwork().transport(for: 1), logger: Logger(label: "apply-failure"),
      onFatalError: fatalErrors.record)
    try await waitUntil("the group of one leads") { server.isLeaderReady }
    _ = try await server.propose(Array("before".utf8))

    server.propose(Array(PoisonableStateMachine.poison.utf8)) { _ in }
    try await waitUntil("the failure is reported") { fatalErrors.all.count == 1 }
    let lastBefore = try #require(await server.status()).core.lastIndex
    server.propose(Array("after".utf8)) { _ in }
    try await waitUntil("the entry after the failure is committed") {
      guard let status = await server.status() else { return false }
      return status.core.lastIndex > lastBefore && status.core.hardState.commit >= status.core.lastIndex
    }
    // Shutdown lets the apply thread finish what was handed to it: the committed entry included.
    await server.shutdown()
    #expect(machine.applied == ["before"])
    #expect(fatalErrors.all.count == 1)
  }
}

/// Records the application entries it applied; refuses the poison entry.
private final class PoisonableStateMachine: ReplicatedStateMachine {
  static let poison = "poison"
  private let state = Mutex<[String]>([])

  struct Poisoned: Error {}

  var applied: [String] { state.withLock { $0 } }

  func apply(_ entries: ArraySlice<CommittedEntry>) throws -> [[UInt8]] {
    let texts = entries.filter(\.isApplicationEntry).map { String(decoding: $0.data, as: UTF8.self) }
    if texts.contains(Self.poison) { throw Poisoned() }
    state.withLock { $0 += texts }
    return entries.map { _ in [] }
  }

  var durablyAppliedIndex: TermIndex { .zero }
  func takeSnapshot() throws -> TermIndex { .zero }
  func takePurgeRequest() -> TermIndex? { nil }
  func installSnapshotFromLeader(leader: PeerID, firstLogIndex: TermIndex) async throws -> InstalledCheckpoint {
    throw Poisoned()
  }
  func leaderChanged(to leader: PeerID?, term: UInt64) {}
  func query(_ request: [UInt8]) throws -> [UInt8] { [] }
}
