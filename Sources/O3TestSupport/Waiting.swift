import NIOCore
import NIOPosix

/// Test support shared by the test targets (not shipped): waiting for effects on other threads
/// and event loop groups that are shut down after use.

/// Thrown when a poll gives up; says what it waited for.
public struct TimedOut: Error, CustomStringConvertible {
  public var what: String

  public init(_ what: String = "a condition") {
    self.what = what
  }

  public var description: String { "timed out waiting until \(what)" }
}

/// Runs `body` with a fresh two-thread event loop group, shut down afterwards.
public func withEventLoopGroup<Result>(
  _ body: (any EventLoopGroup) async throws -> Result
) async throws -> Result {
  let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
  do {
    let result = try await body(group)
    try await group.shutdownGracefully()
    return result
  } catch {
    try? await group.shutdownGracefully()
    throw error
  }
}

/// Polls `condition` until it holds; throws `TimedOut` after a generous `timeout`. Polling is the
/// only way to wait for effects on another thread that have no event to await; the deadline is
/// never an assertion on timing.
public func waitUntil(
  _ what: String, timeout: Duration = .seconds(30), _ condition: () async throws -> Bool
) async throws {
  let clock = ContinuousClock()
  let deadline = clock.now + timeout
  while try await !condition() {
    guard clock.now < deadline else { throw TimedOut(what) }
    try await Task.sleep(for: .milliseconds(2))
  }
}
