import RaftSimulation
import O3TestSupport
import Testing

/// Hand-written histories whose verdict is known, for the key-value model.
///
/// Each history is written as intervals on a logical clock; `nil` as a return time means the
/// client never learned the outcome (return = ∞).
@Suite(.watchdog, .ownThreads) struct LinearizabilityCheckerTests {
  typealias Operation = HistoryOperation<KeyValueInput, KeyValueOutput>

  let checker = LinearizabilityChecker(model: KeyValueModel())

  static func operation(
    _ client: UInt64, _ input: KeyValueInput, _ call: UInt64, _ returnTime: UInt64?,
    _ output: KeyValueOutput?
  ) -> Operation {
    guard let returnTime, let output else {
      return Operation(clientID: client, input: input, callTime: call, outcome: .unknown)
    }
    return Operation(
      clientID: client, input: input, callTime: call,
      outcome: .returned(output, returnTime: returnTime))
  }

  static func put(_ client: UInt64, _ key: String, _ value: String, _ call: UInt64, _ end: UInt64?)
    -> Operation
  {
    operation(client, .put(key: key, value: value), call, end, end == nil ? nil : .done)
  }

  static func get(_ client: UInt64, _ key: String, _ seen: String?, _ call: UInt64, _ end: UInt64)
    -> Operation
  {
    operation(client, .get(key: key), call, end, .value(seen))
  }

  @Test func emptyHistoryIsLinearizable() {
    #expect(checker.check([]) == .linearizable)
  }

  @Test func sequentialHistoryIsLinearizable() {
    let history = [
      Self.put(1, "x", "1", 0, 1), Self.get(2, "x", "1", 2, 3), Self.put(1, "x", "2", 4, 5),
      Self.get(2, "x", "2", 6, 7), Self.operation(1, .delete(key: "x"), 8, 9, .done),
      Self.get(2, "x", nil, 10, 11),
    ]
    #expect(checker.check(history) == .linearizable)
  }

  /// Two writes that overlap may take effect in either order, so reads during them may see
  /// either value, and reads after them may see whichever went last — but only one of them.
  @Test func concurrentWritesAllowEitherOrderButOnlyOneFinalValue() {
    let writes = [Self.put(1, "x", "a", 0, 10), Self.put(2, "x", "b", 0, 10)]
    let duringAThenB = writes + [Self.get(3, "x", "a", 1, 5), Self.get(3, "x", "b", 6, 9)]
    let duringBThenA = writes + [Self.get(3, "x", "b", 1, 5), Self.get(3, "x", "a", 6, 9)]
    let afterA = writes + [Self.get(3, "x", "a", 11, 12), Self.get(4, "x", "a", 13, 14)]
    let afterB = writes + [Self.get(3, "x", "b", 11, 12), Self.get(4, "x", "b", 13, 14)]
    let flipFlop = writes + [Self.get(3, "x", "a", 11, 12), Self.get(4, "x", "b", 13, 14)]
    #expect(checker.check(duringAThenB) == .linearizable)
    #expect(checker.check(duringBThenA) == .linearizable)
    #expect(checker.check(afterA) == .linearizable)
    #expect(checker.check(afterB) == .linearizable)
    #expect(checker.check(flipFlop).violation != nil)
  }

  /// The etcd#741 shape: a read that starts after a write completed must not miss it.
  @Test func staleReadAfterCompletedWriteIsRejected() throws {
    let history = [
      Self.put(1, "x", "1", 0, 1), Self.put(1, "x", "2", 2, 3), Self.get(2, "x", "1", 4, 5),
    ]
    let violation = try #require(checker.check(history).violation)
    #expect(violation.longestLinearizablePrefix == [0, 1])
    #expect(violation.blockingOperation == 2)
    #expect(violation.stateAfterPrefix == "{x=2}")
    #expect(violation.report.contains("#2 client 2 [4, 5] get(key: \"x\")"))
  }

  @Test func readOfValueNeverWrittenIsRejected() {
    let history = [Self.put(1, "x", "1", 0, 1), Self.get(2, "x", "9", 0, 5)]
    #expect(checker.check(history).violation != nil)
  }

  @Test func readOfAbsentKeyBeforeAnyWriteIsAccepted() {
    let history = [Self.get(2, "x", nil, 0, 1), Self.put(1, "x", "1", 2, 3)]
    #expect(checker.check(history) == .linearizable)
  }

  /// A write whose client timed out may take effect long after the timeout.
  @Test func timedOutWriteThatLaterBecomesVisibleIsAccepted() {
    let history = [
      Self.put(1, "x", "1", 0, 1), Self.put(1, "x", "2", 2, nil), Self.get(2, "x", "1", 5, 6),
      Self.get(2, "x", "2", 100, 101),
    ]
    #expect(checker.check(history) == .linearizable)
  }

  @Test func timedOutWriteNeverVisibleIsAccepted() {
    let history = [
      Self.put(1, "x", "1", 0, 1), Self.put(1, "x", "2", 2, nil), Self.get(2, "x", "1", 100, 101),
    ]
    #expect(checker.check(history) == .linearizable)
  }

  /// Once a timed-out write has been seen it has taken effect; it cannot be undone.
  @Test func timedOutWriteSeenThenUnseenIsRejected() {
    let history = [
      Self.put(1, "x", "1", 0, 1), Self.put(1, "x", "2", 2, nil), Self.get(2, "x", "2", 5, 6),
      Self.get(2, "x", "1", 7, 8),
    ]
    #expect(checker.check(history).violation != nil)
  }

  @Test func timedOutReadIsAcceptedWhateverHappened() {
    let history = [
      Self.put(1, "x", "1", 0, 1), Self.operation(2, .get(key: "x"), 0, nil, nil),
      Self.put(1, "x", "2", 2, 3),
    ]
    #expect(checker.check(history) == .linearizable)
  }

  @Test func outputOfTheWrongKindIsRejected() {
    let history = [Self.operation(1, .put(key: "x", value: "1"), 0, 1, .value("1"))]
    #expect(checker.check(history).violation != nil)
  }

  @Test func compareAndSetSucceedsOnlyOnTheExpectedValue() {
    let swapFromAbsent = [
      Self.operation(1, .compareAndSet(key: "x", expected: nil, new: "1"), 0, 1, .swapped(true)),
      Self.get(2, "x", "1", 2, 3),
    ]
    let swapAgainstWrongValue = [
      Self.put(1, "x", "1", 0, 1),
      Self.operation(2, .compareAndSet(key: "x", expected: "0", new: "2"), 2, 3, .swapped(true)),
    ]
    let failedSwapThatChangedTheValue = [
      Self.put(1, "x", "1", 0, 1),
      Self.operation(2, .compareAndSet(key: "x", expected: "0", new: "2"), 2, 3, .swapped(false)),
      Self.get(3, "x", "2", 4, 5),
    ]
    let timedOutSwapThatApplied = [
      Self.put(1, "x", "1", 0, 1),
      Self.operation(2, .compareAndSet(key: "x", expected: "1", new: "2"), 2, nil, nil),
      Self.get(3, "x", "2", 10, 11),
    ]
    #expect(checker.check(swapFromAbsent) == .linearizable)
    #expect(checker.check(swapAgainstWrongValue).violation != nil)
    #expect(checker.check(failedSwapThatChangedTheValue).violation != nil)
    #expect(checker.check(timedOutSwapThatApplied) == .linearizable)
  }

  /// Keys are checked apart; a violation is reported within its own key's operations.
  @Test func historiesArePartitionedPerKey() throws {
    let history = [
      Self.put(1, "x", "1", 0, 1), Self.put(2, "y", "1", 0, 1), Self.put(1, "x", "2", 2, 3),
      Self.get(3, "x", "2", 4, 5), Self.put(2, "y", "2", 2, 3), Self.get(3, "y", "1", 6, 7),
    ]
    #expect(KeyValueModel().partition(history) == [[0, 2, 3], [1, 4, 5]])
    let violation = try #require(checker.check(history).violation)
    #expect(violation.partOperations == [1, 4, 5])
    #expect(violation.blockingOperation == 5)
    #expect(checker.check(Array(history.prefix(5))) == .linearizable)
  }

  @Test func exhaustedSearchBudgetAnswersUnknown() {
    let history = (0..<12).map { Self.put(UInt64($0), "x", "\($0)", 0, 100) } + [
      Self.get(99, "x", "never", 101, 102)
    ]
    let smallBudget = LinearizabilityChecker(model: KeyValueModel(), searchStepLimit: 50)
    #expect(smallBudget.check(history) == .unknown(searchedSteps: 50))
    #expect(checker.check(history).violation != nil)
  }

  @Test func recorderLeavesUncompletedOperationsUnknown() {
    var recorder = HistoryRecorder<KeyValueInput, KeyValueOutput>()
    let write = recorder.invoke(clientID: 1, input: .put(key: "x", value: "1"), at: 3)
    let abandoned = recorder.invoke(clientID: 2, input: .put(key: "x", value: "2"), at: 4)
    recorder.complete(write, output: .done, at: 7)
    #expect(recorder.operations[write].returnTime == 7)
    #expect(recorder.operations[write].output == .done)
    #expect(recorder.operations[abandoned].outcome == .unknown)
    #expect(recorder.operations[abandoned].returnTime == nil)
  }
}
