import Synchronization
import Testing

/// The tests running now in this process, for the watchdog's report.
public final class RunningTests: Sendable {
  public static let shared = RunningTests()

  public struct Entry: Sendable {
    public var name: String
    public var runningSeconds: Double
  }

  private struct Started {
    var name: String
    var since: ContinuousClock.Instant
  }

  private let state = Mutex<(next: UInt64, running: [UInt64: Started])>((0, [:]))

  /// Records that `name` started; pass the token to `end`.
  public func begin(_ name: String) -> UInt64 {
    let now = ContinuousClock.now
    return state.withLock { state in
      state.next += 1
      state.running[state.next] = Started(name: name, since: now)
      return state.next
    }
  }

  public func end(_ token: UInt64) {
    _ = state.withLock { $0.running.removeValue(forKey: token) }
  }

  /// The running tests, longest-running first.
  public func snapshot() -> [Entry] {
    let now = ContinuousClock.now
    let running = state.withLock { Array($0.running.values) }
    return running.sorted { $0.since < $1.since }.map { Entry(name: $0.name, runningSeconds: (now - $0.since).seconds) }
  }
}

/// Starts the pool watchdog and records each test of the suite while it runs, so that a stall
/// names the tests it froze. Every suite of the project carries it: `@Suite(.watchdog)`.
public struct WatchdogTrait: SuiteTrait, TestTrait, TestScoping {
  public var isRecursive: Bool { true }

  public func provideScope(
    for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
  ) async throws {
    PoolWatchdog.shared.start()
    let kind = test.isSuite ? "suite " : ""
    let token = RunningTests.shared.begin("\(kind)\(test.id)")
    defer { RunningTests.shared.end(token) }
    try await function()
  }
}

extension Trait where Self == WatchdogTrait {
  /// Watch the cooperative pool while these tests run (see `PoolWatchdog`).
  public static var watchdog: Self { WatchdogTrait() }
}
