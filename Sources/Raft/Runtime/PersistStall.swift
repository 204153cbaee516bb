#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The steps of persisting a Ready, in the order RaftCore's durability contract asks for.
enum PersistStep: Int, Comparable, Sendable {
  case snapshot
  case entries
  case hardState
  case sync

  static func < (left: PersistStep, right: PersistStep) -> Bool { left.rawValue < right.rawValue }
}

/// A failed persist: the step that failed (every earlier one is done) and the log's error.
struct PersistFailure: Error, CustomStringConvertible {
  let step: PersistStep
  let underlying: Error

  /// Whether the log ran out of space and left itself as before the failed step, so that the
  /// step can be repeated (``RaftLogError/Code/noSpace``).
  var isOutOfSpace: Bool { (underlying as? RaftLogError)?.code == .noSpace }

  var description: String { "\(underlying)" }
}

/// Waits between attempts to persist a Ready on a full disk: `initialMilliseconds`, doubling up
/// to `maximumMilliseconds`.
struct PersistRetryBackoff: Sendable, Equatable {
  let initialMilliseconds: Int
  let maximumMilliseconds: Int
  private var nextMilliseconds: Int?

  init(initialMilliseconds: Int = 100, maximumMilliseconds: Int = 5_000) {
    precondition(initialMilliseconds > 0 && maximumMilliseconds >= initialMilliseconds, "invalid backoff bounds")
    self.initialMilliseconds = initialMilliseconds
    self.maximumMilliseconds = maximumMilliseconds
  }

  /// The wait before the next attempt; each call doubles the one after.
  mutating func nextDelayMilliseconds() -> Int {
    let delay = nextMilliseconds ?? initialMilliseconds
    nextMilliseconds = min(delay * 2, maximumMilliseconds)
    return delay
  }

  /// The wait in ticks of `tickMilliseconds`, rounded up, at least one: the loop counts ticks.
  mutating func nextDelayTicks(tickMilliseconds: Int) -> Int {
    max(1, (nextDelayMilliseconds() + tickMilliseconds - 1) / max(tickMilliseconds, 1))
  }
}

/// The Ready in flight could not be persisted because the log's disk is full. The loop keeps it
/// (the messages that wait for persistence unsent, its committed entries unapplied, the core not
/// advanced) and persists it again from `resumeStep`, after a backoff counted in ticks.
struct PersistStall {
  /// The first step not yet done; earlier steps are durable or at least written.
  var resumeStep: PersistStep
  var failedAttempts = 1
  /// Ticks left before the next attempt; nil while an attempt is running.
  var ticksUntilRetry: Int?
  var backoff: PersistRetryBackoff

  /// The directory of the file the log named, for the message a person reads.
  static func directory(of failure: PersistFailure) -> String {
    guard let file = (failure.underlying as? RaftLogError)?.file, let slash = file.lastIndex(of: "/") else {
      return "(unknown)"
    }
    return String(file[..<slash])
  }

  /// The system's words for the reason ("No space left on device", "Disk quota exceeded").
  static func reason(of failure: PersistFailure) -> String {
    let message = (failure.underlying as? RaftLogError)?.message ?? ""
    return message.contains(String(cString: strerror(EDQUOT))) ? String(cString: strerror(EDQUOT))
      : String(cString: strerror(ENOSPC))
  }
}
