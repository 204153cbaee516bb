import Foundation

/// The time the Raft runtime reads to tick its core and expire requests: a monotonic count of
/// nanoseconds from an arbitrary start, injected through `RaftServerConfiguration.clock` so a test
/// can hold time still or move it on.
///
/// Monotonic on purpose: the wall clock (`Date`) jumps when NTP or a person sets it, and a jump
/// back would stop the ticks (no heartbeats, no elections) until the clock caught up again.
public protocol RaftClock: Sendable {
  /// Nanoseconds since this clock's start; never decreases.
  var nanoseconds: UInt64 { get }
}

/// The machine's monotonic clock (`CLOCK_MONOTONIC`, through `DispatchTime`).
public struct MonotonicRaftClock: RaftClock {
  public init() {}

  public var nanoseconds: UInt64 { DispatchTime.now().uptimeNanoseconds }
}

extension RaftClock {
  /// The instant `milliseconds` after now.
  func deadline(afterMilliseconds milliseconds: Int) -> UInt64 {
    nanoseconds &+ UInt64(max(0, milliseconds)) * 1_000_000
  }
}
