import Foundation
import O3Threads
import Testing

/// Runs each test of the suite off Swift's cooperative pool: every job of the test's task (its
/// start and each resumption after an await) runs on one of a few threads kept for such tests.
///
/// For suites whose tests are seconds of synchronous CPU or disk work (model checks over many
/// seeds, random operation runs on a real log): on the pool (two threads here) two of them hold
/// every thread and freeze every other test, as `PoolWatchdog` reported. Off the pool they only
/// share the CPU. Child tasks inherit the preference; work the test hands to others (an
/// in-process server's own tasks, NIO) still runs where it would in production.
public struct OwnThreadsTrait: SuiteTrait, TestTrait, TestScoping {
  public var isRecursive: Bool { true }

  public func provideScope(
    for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
  ) async throws {
    guard !test.isSuite else { return try await function() }
    try await withTaskExecutorPreference(ThreadPerJobExecutor.shared) { try await function() }
  }
}

extension Trait where Self == OwnThreadsTrait {
  /// Run these tests' work on threads of their own, not on the cooperative pool.
  public static var ownThreads: Self { OwnThreadsTrait() }
}

/// A task executor with a few threads of its own (`threadCount`), started on first use, that run
/// the jobs given to it in order of arrival.
///
/// Bounded on purpose: a thread per job once put about 400 tests' threads on two cores at the
/// same instant, and their start-up contention (futex waits inside thread creation) starved the
/// cooperative pool for 26 s, which the watchdog reported. A handful of threads still keeps every
/// long synchronous body off the pool, and queues the rest instead of running them all at once.
/// The threads are named `o3-test-job` for the kernel, so the watchdog tells them from the pool's.
final class ThreadPerJobExecutor: TaskExecutor, @unchecked Sendable {
  // @unchecked: `queue` and `started` are only touched with `condition` locked.
  static let shared = ThreadPerJobExecutor(threadCount: 6)

  static let threadName = "o3-test-job"

  private let threadCount: Int
  private let condition = NSCondition()
  private var queue: [UnownedJob] = []
  private var started = 0
  private var idle = 0

  init(threadCount: Int) {
    self.threadCount = threadCount
  }

  func enqueue(_ job: consuming ExecutorJob) {
    let job = UnownedJob(job)
    condition.lock()
    queue.append(job)
    let startThread = idle == 0 && started < threadCount
    if startThread { started += 1 }
    condition.signal()
    condition.unlock()
    if startThread { startWorker() }
  }

  private func startWorker() {
    let thread = Thread { [self] in
      nameCurrentThread(Self.threadName)
      let executor = asUnownedTaskExecutor()
      while true {
        condition.lock()
        idle += 1
        while queue.isEmpty { condition.wait() }
        idle -= 1
        let job = queue.removeFirst()
        condition.unlock()
        job.runSynchronously(on: executor)
      }
    }
    thread.stackSize = 8 << 20
    thread.start()
  }
}
