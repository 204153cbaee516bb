/// A sequential specification that the linearizability checker compares a history against.
///
/// `step` must be a pure function: the search calls it many times from the same state, in any
/// order, and memoizes on the state it returns.
public protocol LinearizabilityModel {
  /// The specification's state; equal states must behave identically for every later operation.
  associatedtype State: Hashable
  /// What a client asks for.
  associatedtype Input
  /// What a client is told.
  associatedtype Output

  /// The state before any operation.
  var initialState: State { get }

  /// Applies `input` to `state` when the client saw `output` (nil: the outcome is unknown).
  ///
  /// Returns whether that output is legal from `state`, and the state afterwards. An operation
  /// with an unknown outcome must be legal from every state (it may have done anything its
  /// input allows); the checker also lets it take effect never, by placing it after every
  /// operation that returned.
  func step(_ state: State, input: Input, output: Output?) -> (legal: Bool, next: State)

  /// Splits a history into independent parts, checked separately (P-compositionality).
  ///
  /// Each element lists indices into `operations`. Every index must appear exactly once, and
  /// operations in different parts must never affect each other's outputs.
  func partition(_ operations: [HistoryOperation<Input, Output>]) -> [[Int]]

  /// Whether `input` never changes the state. An operation that is read-only and whose outcome
  /// is unknown constrains nothing, and the checker drops it before searching: every such
  /// operation left in would double the orders the search may have to try.
  func isReadOnly(_ input: Input) -> Bool

  /// A one-line description of an operation, for violation reports.
  func describe(_ operation: HistoryOperation<Input, Output>) -> String

  /// A one-line description of a state, for violation reports.
  func describe(state: State) -> String
}

extension LinearizabilityModel {
  /// One part holding the whole history: always correct, slowest to search.
  public func partition(_ operations: [HistoryOperation<Input, Output>]) -> [[Int]] {
    operations.isEmpty ? [] : [Array(operations.indices)]
  }

  public func isReadOnly(_ input: Input) -> Bool {
    false
  }

  public func describe(_ operation: HistoryOperation<Input, Output>) -> String {
    let returned = operation.returnTime.map { "\($0)" } ?? "∞"
    let output = operation.output.map { "\($0)" } ?? "unknown"
    return "client \(operation.clientID) [\(operation.callTime), \(returned)] "
      + "\(operation.input) → \(output)"
  }

  public func describe(state: State) -> String {
    "\(state)"
  }
}
