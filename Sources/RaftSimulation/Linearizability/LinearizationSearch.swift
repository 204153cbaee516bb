/// The Wing–Gong search with Lowe's memoization over one independent part of a history.
///
/// The history is a doubly linked list of call and return entries in time order. Walking from
/// the head, a call entry whose operation is legal from the current state is linearized next:
/// both its entries are lifted out of the list and the walk restarts. Reaching a return entry
/// means some operation that had to take effect by then could not: the search backtracks.
/// A (linearized set, state) pair already explored is never explored again, which is what keeps
/// the search from being exponential on the histories that clients produce.
struct LinearizationSearch<Model: LinearizabilityModel> {
  /// What the search concluded about its part.
  enum Conclusion {
    /// A legal order of every operation, as indices into the part.
    case linearizable(order: [Int])
    /// No legal order exists; the deepest partial order found explains why.
    case violation(DeepestPrefix)
    /// The step budget ran out first.
    case budgetExhausted
  }

  /// The longest legal prefix found, and where every extension of it failed.
  struct DeepestPrefix {
    var order: [Int]
    var state: Model.State
    /// Operations that were free to go next (called before the blocking return).
    var candidates: [Int]
    /// An operation that returned before any candidate could be linearized.
    var blocking: Int
  }

  private struct MemoKey: Hashable {
    var linearized: [UInt64]
    var state: Model.State
  }

  private let model: Model
  private let operations: [HistoryOperation<Model.Input, Model.Output>]
  /// Linked-list links between entries; index 0 is the head sentinel, -1 is the end.
  private var next: [Int]
  private var previous: [Int]
  /// For a call entry, the index of its return entry; -1 for return entries and the head.
  private let matchingReturn: [Int]
  private let operationOfEntry: [Int]

  init(model: Model, operations: [HistoryOperation<Model.Input, Model.Output>]) {
    self.model = model
    self.operations = operations
    let ordered = Self.entriesInTimeOrder(operations)
    let entryCount = ordered.count + 1
    var matchingReturn = Array(repeating: -1, count: entryCount)
    var operationOfEntry = Array(repeating: -1, count: entryCount)
    var callEntryOfOperation = Array(repeating: -1, count: operations.count)
    for (position, entry) in ordered.enumerated() {
      let index = position + 1
      operationOfEntry[index] = entry.operation
      if entry.isReturn {
        matchingReturn[callEntryOfOperation[entry.operation]] = index
      } else {
        callEntryOfOperation[entry.operation] = index
      }
    }
    self.matchingReturn = matchingReturn
    self.operationOfEntry = operationOfEntry
    self.next = (0..<entryCount).map { $0 + 1 < entryCount ? $0 + 1 : -1 }
    self.previous = (0..<entryCount).map { $0 - 1 }
  }

  /// Runs the search, charging one step per entry visited against `stepBudget`.
  mutating func run(stepBudget: inout Int) -> Conclusion {
    let wordCount = (operations.count + 63) / 64
    var linearized = [UInt64](repeating: 0, count: wordCount)
    var explored = Set<MemoKey>()
    var stack: [(entry: Int, stateBefore: Model.State)] = []
    var state = model.initialState
    var deepest = DeepestPrefix(order: [], state: state, candidates: [], blocking: -1)
    var deepestLength = -1
    var entry = next[0]
    while next[0] != -1 {
      guard stepBudget > 0 else { return .budgetExhausted }
      stepBudget -= 1
      let returnEntry = matchingReturn[entry]
      if returnEntry != -1 {
        let operation = operations[operationOfEntry[entry]]
        let (legal, nextState) = model.step(state, input: operation.input, output: operation.output)
        guard legal else {
          entry = next[entry]
          continue
        }
        var extended = linearized
        extended[operationOfEntry[entry] / 64] |= 1 << UInt64(operationOfEntry[entry] % 64)
        guard explored.insert(MemoKey(linearized: extended, state: nextState)).inserted else {
          entry = next[entry]
          continue
        }
        stack.append((entry, state))
        state = nextState
        linearized = extended
        lift(entry)
        entry = next[0]
      } else {
        if stack.count > deepestLength {
          deepest = describeDeadEnd(stack: stack, state: state, blockingEntry: entry)
          deepestLength = stack.count
        }
        guard let top = stack.popLast() else { return .violation(deepest) }
        state = top.stateBefore
        let operation = operationOfEntry[top.entry]
        linearized[operation / 64] &= ~(1 << UInt64(operation % 64))
        unlift(top.entry)
        entry = next[top.entry]
      }
    }
    return .linearizable(order: stack.map { operationOfEntry[$0.entry] })
  }

  private func describeDeadEnd(
    stack: [(entry: Int, stateBefore: Model.State)], state: Model.State, blockingEntry: Int
  ) -> DeepestPrefix {
    var candidates: [Int] = []
    var entry = next[0]
    while entry != blockingEntry && entry != -1 {
      if matchingReturn[entry] != -1 { candidates.append(operationOfEntry[entry]) }
      entry = next[entry]
    }
    return DeepestPrefix(
      order: stack.map { operationOfEntry[$0.entry] }, state: state, candidates: candidates,
      blocking: operationOfEntry[blockingEntry])
  }

  private mutating func lift(_ callEntry: Int) {
    unlink(callEntry)
    unlink(matchingReturn[callEntry])
  }

  /// Undoes `lift`; entries are restored in the reverse order they were removed.
  private mutating func unlift(_ callEntry: Int) {
    relink(matchingReturn[callEntry])
    relink(callEntry)
  }

  private mutating func unlink(_ entry: Int) {
    next[previous[entry]] = next[entry]
    if next[entry] != -1 { previous[next[entry]] = previous[entry] }
  }

  private mutating func relink(_ entry: Int) {
    next[previous[entry]] = entry
    if next[entry] != -1 { previous[next[entry]] = entry }
  }

  /// Call and return entries sorted by time; calls before returns at equal times (closed
  /// intervals), and unknown returns after every known time.
  private static func entriesInTimeOrder(
    _ operations: [HistoryOperation<Model.Input, Model.Output>]
  ) -> [(operation: Int, isReturn: Bool)] {
    var keyed: [(sortKey: (UInt64, UInt64, UInt64, Int), operation: Int, isReturn: Bool)] = []
    keyed.reserveCapacity(operations.count * 2)
    for (index, operation) in operations.enumerated() {
      keyed.append(((0, operation.callTime, 0, index), index, false))
      if let returnTime = operation.returnTime {
        keyed.append(((0, returnTime, 1, index), index, true))
      } else {
        keyed.append(((1, 0, 1, index), index, true))
      }
    }
    keyed.sort { $0.sortKey < $1.sortKey }
    return keyed.map { ($0.operation, $0.isReturn) }
  }
}
