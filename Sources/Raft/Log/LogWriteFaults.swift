#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif
import Synchronization

/// Write failures a test arms on one ``DurableRaftLog``, standing in for a disk that fills up:
/// the log's own code (partial writes, rollback, retry) runs as it would on a full disk.
///
/// Consulted before every `pwrite` of a segment or metadata file; unarmed, it costs one
/// uncontended lock next to a system call.
final class LogWriteFaults: Sendable {
  /// One armed failure.
  struct Failure: Sendable {
    /// The `errno` the failing write reports.
    var errorNumber: Int32
    /// Writes that still succeed before the first failing one.
    var writesBeforeFailure: Int
    /// Bytes the failing write puts on disk before it fails (a partial write).
    var bytesBeforeFailure: Int
    /// Writes that fail before the fault clears by itself; nil: until ``clear()``.
    var failuresLeft: Int?
  }

  /// How a write ends under the armed failure: `bytes` of it reach the file, then it fails.
  struct Outcome: Equatable, Sendable {
    var bytes: Int
    var errorNumber: Int32
  }

  private struct State {
    var failure: Failure?
    var failuresInjected = 0
  }

  private let state = Mutex(State())

  /// Makes writes fail with `errorNumber` (ENOSPC unless told) from the write after
  /// `writesBeforeFailure` successful ones, each failing write putting `bytesBeforeFailure` bytes
  /// (at most its own size) on disk first, `times` times or until ``clear()``.
  func failWrites(
    errorNumber: Int32 = ENOSPC, writesBeforeFailure: Int = 0, bytesBeforeFailure: Int = 0, times: Int? = nil
  ) {
    state.withLock {
      $0.failure = Failure(
        errorNumber: errorNumber, writesBeforeFailure: writesBeforeFailure, bytesBeforeFailure: bytesBeforeFailure,
        failuresLeft: times)
    }
  }

  /// Lets every write succeed again (space returned).
  func clear() { state.withLock { $0.failure = nil } }

  /// Writes failed on purpose so far.
  var failuresInjected: Int { state.withLock { $0.failuresInjected } }

  /// How the next write of `byteCount` bytes ends: nil when it succeeds.
  func nextWrite(byteCount: Int) -> Outcome? {
    state.withLock { state in
      guard var failure = state.failure else { return nil }
      if failure.writesBeforeFailure > 0 {
        failure.writesBeforeFailure -= 1
        state.failure = failure
        return nil
      }
      if let left = failure.failuresLeft {
        failure.failuresLeft = left - 1
        state.failure = left > 1 ? failure : nil
      }
      state.failuresInjected += 1
      return Outcome(bytes: min(failure.bytesBeforeFailure, byteCount), errorNumber: failure.errorNumber)
    }
  }
}
