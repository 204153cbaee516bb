import Foundation
import Logging
import O3Threads
import Raft
import RaftCore
import Synchronization
import Testing

/// A clock that moves only when the test moves it.
final class ManualRaftClock: RaftClock {
  private let now = Mutex<UInt64>(0)

  var nanoseconds: UInt64 { now.withLock { $0 } }

  func advance(milliseconds: UInt64) {
    now.withLock { $0 += milliseconds * 1_000_000 }
  }
}

/// The runtime's ticks and deadlines come from `RaftServerConfiguration.clock`, not the machine's.
@Suite(.watchdog) struct RaftClockTests {
  /// A peer of a three-voter group whose others never answer, ticking once an hour: in real time
  /// it would not campaign for ten hours, so a (pre-vote) campaign proves the injected clock drives the
  /// ticks. Each `status()` wakes the loop, which then sees the hour that passed.
  @Test func ticksFollowTheInjectedClock() async throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("o3-clock-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let log = try await onOwnThread("raft-log-open") { try DurableRaftLog.open(directory: directory, logger: Logger(label: "raft-clock-test")) }
    let clock = ManualRaftClock()
    var raft = RaftConfiguration(id: PeerID(1))
    raft.electionTimeoutTicks = 10
    var configuration = RaftServerConfiguration(raft: raft)
    configuration.tickMilliseconds = 3_600_000
    configuration.clock = clock
    let server = try await RaftServer.start(
      configuration: configuration, log: log, initialMembership: Membership(voters: [PeerID(1), PeerID(2), PeerID(3)], learners: []),
      stateMachine: KeyValueStateMachine(), transport: LocalNetwork().transport(for: PeerID(1)),
      logger: Logger(label: "raft-clock-test"))
    let before = try #require(await server.status())
    #expect(before.core.role == RaftRole.follower, "no time has passed: \(before.core)")
    var hours = 0
    while hours < 40, let status = await server.status(), status.core.role == RaftRole.follower {
      clock.advance(milliseconds: 3_600_000)
      hours += 1
    }
    let after = try #require(await server.status())
    #expect(after.core.role == RaftRole.preCandidate, "after \(hours) hours of the test's clock the peer campaigned: \(after.core)")
    #expect(hours >= 10, "not before one election timeout (ten ticks): \(hours)")
    await server.shutdown()
  }
}
