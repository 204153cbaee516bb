import Foundation
import Testing

/// Runs each test of the suite off Swift's cooperative pool: every job of the test's task (its
/// start and each resumption after an await) runs on a new thread of its own.
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

/// A task executor that runs every job on a new thread. Costly per job (a thread start), which
/// suits tests whose jobs are long: one synchronous body, or a few awaits.
final class ThreadPerJobExecutor: TaskExecutor {
  static let shared = ThreadPerJobExecutor()

  func enqueue(_ job: consuming ExecutorJob) {
    let job = UnownedJob(job)
    let executor = asUnownedTaskExecutor()
    let thread = Thread {
      job.runSynchronously(on: executor)
    }
    thread.name = "o3-test-job"
    thread.stackSize = 8 << 20
    thread.start()
  }
}
