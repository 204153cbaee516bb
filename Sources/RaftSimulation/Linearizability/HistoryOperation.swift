/// One client operation in a history: what was asked, when, and what came back if anything did.
///
/// Times are logical (virtual ticks in the simulator, monotonic nanoseconds in real-process
/// tests); only their order matters. Intervals are closed: an operation that returns at the same
/// time another is called counts as concurrent with it, which can only make the checker more
/// permissive, never wrongly strict.
public struct HistoryOperation<Input, Output> {
  /// The client that issued the operation; a client issues one operation at a time.
  public var clientID: UInt64
  /// What the client asked for.
  public var input: Input
  /// When the client sent the request.
  public var callTime: UInt64
  /// What the client learned, and when.
  public var outcome: OperationOutcome<Output>

  public init(clientID: UInt64, input: Input, callTime: UInt64, outcome: OperationOutcome<Output>) {
    if case .returned(_, let returnTime) = outcome {
      precondition(returnTime >= callTime, "an operation cannot return before it is called")
    }
    self.clientID = clientID
    self.input = input
    self.callTime = callTime
    self.outcome = outcome
  }

  /// The output if the operation returned, nil if its outcome is unknown.
  public var output: Output? {
    if case .returned(let output, _) = outcome { return output }
    return nil
  }

  /// The return time if the operation returned, nil if it may take effect at any later time.
  public var returnTime: UInt64? {
    if case .returned(_, let returnTime) = outcome { return returnTime }
    return nil
  }
}

/// What a client learned about an operation it issued.
public enum OperationOutcome<Output> {
  /// The operation returned `output` at `returnTime`.
  case returned(Output, returnTime: UInt64)
  /// The client never learned the result (timeout, lost connection, crash): the operation may
  /// have taken effect at any point after its call, or never.
  case unknown
}

extension HistoryOperation: Sendable where Input: Sendable, Output: Sendable {}
extension HistoryOperation: Equatable where Input: Equatable, Output: Equatable {}
extension HistoryOperation: Hashable where Input: Hashable, Output: Hashable {}
extension OperationOutcome: Sendable where Output: Sendable {}
extension OperationOutcome: Equatable where Output: Equatable {}
extension OperationOutcome: Hashable where Output: Hashable {}

/// Collects a history as clients invoke and complete operations.
///
/// An operation that is invoked and never completed keeps an unknown outcome, which is exactly
/// how a timed-out or abandoned request must be judged.
public struct HistoryRecorder<Input, Output> {
  /// The operations recorded so far, in invocation order.
  public private(set) var operations: [HistoryOperation<Input, Output>] = []

  public init() {}

  /// Records that `clientID` sent `input` at `time`; returns the handle to complete it with.
  public mutating func invoke(clientID: UInt64, input: Input, at time: UInt64) -> Int {
    operations.append(
      HistoryOperation(clientID: clientID, input: input, callTime: time, outcome: .unknown))
    return operations.count - 1
  }

  /// Records that the operation `handle` returned `output` at `time`.
  public mutating func complete(_ handle: Int, output: Output, at time: UInt64) {
    precondition(operations.indices.contains(handle), "unknown operation handle \(handle)")
    precondition(operations[handle].returnTime == nil, "operation \(handle) completed twice")
    precondition(time >= operations[handle].callTime, "operation \(handle) returns before its call")
    operations[handle].outcome = .returned(output, returnTime: time)
  }
}

extension HistoryRecorder: Sendable where Input: Sendable, Output: Sendable {}
