import RaftSimulation
import Synchronization

/// A history many client tasks share: every operation carries the time its call began and the
/// time its answer arrived, both from one monotonic clock (nanoseconds since the history was
/// made), so the checker sees the real-time order of non-overlapping operations.
///
/// A client takes ``timestamp()`` before it sends a request and records the operation once it
/// knows the outcome. An operation whose answer never came (timed out, connection lost, retries
/// spent) is recorded with a nil output: it may have taken effect at any time after its call.
/// The client then continues under a new client id (``newClientID()``), as a client issues one
/// operation at a time and that one may still be in flight.
public final class ConcurrentHistory<Input: Sendable, Output: Sendable>: Sendable {
  private let recorded = Mutex<[HistoryOperation<Input, Output>]>([])
  private let nextClientID = Atomic<UInt64>(1)
  private let start = ContinuousClock.now

  public init() {}

  /// A client id not handed out before.
  public func newClientID() -> UInt64 {
    nextClientID.add(1, ordering: .relaxed).oldValue
  }

  /// Now, in nanoseconds since the history was made.
  public func timestamp() -> UInt64 {
    let elapsed = ContinuousClock.now - start
    return UInt64(elapsed.components.seconds) * 1_000_000_000 + UInt64(elapsed.components.attoseconds / 1_000_000_000)
  }

  /// Records an operation called at `callTime`; `output` nil means its outcome is unknown.
  /// A known output returns now.
  public func record(clientID: UInt64, input: Input, callTime: UInt64, output: Output?) {
    recorded.withLock { operations in
      let outcome: OperationOutcome<Output> = output.map { .returned($0, returnTime: timestamp()) } ?? .unknown
      operations.append(HistoryOperation(clientID: clientID, input: input, callTime: callTime, outcome: outcome))
    }
  }

  public var operations: [HistoryOperation<Input, Output>] { recorded.withLock { $0 } }

  public var count: Int { recorded.withLock { $0.count } }
}
