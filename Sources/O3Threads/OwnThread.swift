import Foundation

/// Runs `body` on a thread of its own and suspends until it returns.
///
/// For work that keeps a thread for long when called from async code — a blocking wait (joining
/// the Raft loop or the double buffer's flush thread at shutdown), a simulation over hundreds of
/// seeds, a search: Swift's cooperative pool has one thread per core (two here), and two such
/// calls on it hold every thread, so every other task's awaits, timers and NIO-to-async hand-offs
/// freeze until they return (the stall the tests' `PoolWatchdog` reports). On its own thread
/// the same work only shares the CPU, which the kernel divides fairly.
public func onOwnThread<Result: Sendable>(
  _ name: String, _ body: @escaping @Sendable () throws -> Result
) async throws -> Result {
  try await withCheckedThrowingContinuation { continuation in
    let thread = Thread {
      continuation.resume(with: Swift.Result { try body() })
    }
    thread.name = name
    thread.stackSize = 8 << 20
    thread.start()
  }
}

/// `onOwnThread` for work that cannot fail.
public func onOwnThread<Result: Sendable>(
  _ name: String, _ body: @escaping @Sendable () -> Result
) async -> Result {
  await withCheckedContinuation { continuation in
    let thread = Thread {
      continuation.resume(returning: body())
    }
    thread.name = name
    thread.stackSize = 8 << 20
    thread.start()
  }
}
