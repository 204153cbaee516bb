import Foundation
import Logging
import NIOPosix
import O3Common
import O3Service
import O3TestSupport
import Raft
import RaftCore
import Synchronization
import Testing

/// A state machine that counts the application entries it applied (and keeps nothing durable).
final class CountingStateMachine: ReplicatedStateMachine {
  private let state = Mutex<(applied: TermIndex, count: Int)>((.zero, 0))

  var count: Int { state.withLock { $0.count } }

  func apply(_ entries: ArraySlice<CommittedEntry>) throws -> [[UInt8]] {
    state.withLock { state in
      entries.map { entry in
        state.applied = entry.termIndex
        guard entry.isApplicationEntry else { return [] }
        state.count += 1
        return Array("\(state.count)".utf8)
      }
    }
  }

  var durablyAppliedIndex: TermIndex { .zero }
  func takeSnapshot() throws -> TermIndex { .zero }
  func takePurgeRequest() -> TermIndex? { nil }
  func installSnapshotFromLeader(leader: PeerID, firstLogIndex: TermIndex) async throws -> InstalledCheckpoint {
    throw CancellationError()
  }
  func leaderChanged(to leader: PeerID?, term: UInt64) {}
  func query(_ request: [UInt8]) throws -> [UInt8] { Array("\(count)".utf8) }
}

/// The service kit's Raft hosting, as the OM (and next SCM) use it.
@Suite(.watchdog) struct RaftGroupHostTests {
  private func settings(directory: String, port: Int) -> RaftGroupHost.Settings {
    var raft = RaftServerConfiguration(raft: RaftConfiguration(id: PeerID(7)))
    raft.tickMilliseconds = 50
    return RaftGroupHost.Settings(
      logDirectory: directory, segmentSizeBytes: 1 << 20, listenAddress: HostAndPort(host: "127.0.0.1", port: port),
      listenAddressKey: "ozone.test.ratis.port", peers: [(id: PeerID(7), address: HostAndPort(host: "127.0.0.1", port: port))],
      initialMembership: Membership(voters: [PeerID(7)], learners: []), raft: raft)
  }

  @Test func aGroupOfOneIsReadyWhenStartReturnsAndKeepsItsLogAcrossRestarts() async throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("o3-host-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let machine = CountingStateMachine()
    let first = try await RaftGroupHost.start(
      settings(directory: directory, port: 0), stateMachine: machine, group: MultiThreadedEventLoopGroup.singleton,
      logger: Logger(label: "host-test"), onFatalError: { Issue.record("fatal: \($0)") })
    #expect(first.server.isLeaderReady, "a group of one leads and has applied its first entry when start returns")
    #expect(first.port > 0)
    #expect(try await first.server.propose(Array("a".utf8)) == Array("1".utf8))
    let lastIndex = try #require(await first.server.status()).core.lastIndex
    await first.server.shutdown()

    let again = CountingStateMachine()
    let second = try await RaftGroupHost.start(
      settings(directory: directory, port: 0), stateMachine: again, group: MultiThreadedEventLoopGroup.singleton,
      logger: Logger(label: "host-test"), onFatalError: { Issue.record("fatal: \($0)") })
    #expect(try #require(await second.server.status()).core.lastIndex > lastIndex, "the log came back, and a new term's entry follows it")
    #expect(again.count == 1, "the restarted peer applied the entry from its log again (its state machine keeps nothing)")
    await second.server.shutdown()
  }

  @Test func aRaftPortInUseIsReportedByItsKey() async throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("o3-host-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let taken = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
    defer { taken.close(promise: nil) }
    let port = try #require(taken.localAddress?.port)
    await #expect {
      _ = try await RaftGroupHost.start(
        settings(directory: directory, port: port), stateMachine: CountingStateMachine(),
        group: MultiThreadedEventLoopGroup.singleton, logger: Logger(label: "host-test"), onFatalError: { _ in })
    } throws: { error in
      (error as? ConfigurationError)?.key == "ozone.test.ratis.port"
    }
  }
}
