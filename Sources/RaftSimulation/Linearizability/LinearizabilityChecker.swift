/// Decides whether a history of client operations is linearizable with respect to a model.
///
/// The history is split with the model's `partition`, and each part is searched on its own
/// (Wing–Gong/Lowe, memoized on the set of operations linearized and the model state). The
/// search is bounded: past `searchStepLimit` entry visits in total, the answer is `.unknown`
/// rather than a hang.
public struct LinearizabilityChecker<Model: LinearizabilityModel> {
  /// Enough for thousands of operations per key with realistic overlap.
  public static var defaultSearchStepLimit: Int { 20_000_000 }

  /// The sequential specification histories are judged against.
  public var model: Model
  /// The most list entries the search may visit, over all parts together.
  public var searchStepLimit: Int

  public init(model: Model, searchStepLimit: Int = Self.defaultSearchStepLimit) {
    precondition(searchStepLimit > 0, "the search needs a positive step limit")
    self.model = model
    self.searchStepLimit = searchStepLimit
  }

  /// Checks `history`; a violation names operations by their index in `history`.
  public func check(_ history: [HistoryOperation<Model.Input, Model.Output>])
    -> LinearizabilityResult
  {
    let parts = model.partition(history)
    precondition(
      parts.reduce(0) { $0 + $1.count } == history.count,
      "partition must place every operation in exactly one part")
    var stepBudget = searchStepLimit
    var exhausted = false
    for wholePart in parts {
      let part = wholePart.filter {
        history[$0].returnTime != nil || !model.isReadOnly(history[$0].input)
      }
      var search = LinearizationSearch(model: model, operations: part.map { history[$0] })
      switch search.run(stepBudget: &stepBudget) {
      case .linearizable:
        continue
      case .violation(let deepest):
        return .notLinearizable(
          violation(in: history, part: wholePart, searched: part, deepest: deepest))
      case .budgetExhausted:
        exhausted = true
        stepBudget = 0
      }
    }
    return exhausted ? .unknown(searchedSteps: searchStepLimit) : .linearizable
  }

  private func violation(
    in history: [HistoryOperation<Model.Input, Model.Output>], part: [Int], searched: [Int],
    deepest: LinearizationSearch<Model>.DeepestPrefix
  ) -> LinearizabilityViolation {
    let prefix = deepest.order.map { searched[$0] }
    let candidates = deepest.candidates.map { searched[$0] }
    let blocking = searched[deepest.blocking]
    let truncated = prefix.count > LinearizabilityViolation.reportedPrefixOperationsMax
    var lines = [
      "history is not linearizable: a part of \(part.count) operations has no legal order.",
      "longest linearizable prefix: \(prefix.count) operations"
        + (truncated ? ", the last of them:" : ":"),
    ]
    for index in prefix.suffix(LinearizabilityViolation.reportedPrefixOperationsMax) {
      lines.append("  #\(index) \(model.describe(history[index]))")
    }
    lines.append("state after that prefix: \(model.describe(state: deepest.state))")
    lines.append("none of these could take effect next:")
    for index in candidates {
      lines.append("  #\(index) \(model.describe(history[index]))")
    }
    lines.append("yet this one had returned by then:")
    lines.append("  #\(blocking) \(model.describe(history[blocking]))")
    return LinearizabilityViolation(
      partOperations: part, longestLinearizablePrefix: prefix,
      stateAfterPrefix: model.describe(state: deepest.state), candidateOperations: candidates,
      blockingOperation: blocking, report: lines.joined(separator: "\n"))
  }
}

extension LinearizabilityChecker: Sendable where Model: Sendable {}

/// The checker's verdict on a history.
public enum LinearizabilityResult: Sendable, Equatable {
  /// Some order of the operations, each taking effect between its call and return, is legal.
  case linearizable
  /// No such order exists; the violation says where every attempt failed.
  case notLinearizable(LinearizabilityViolation)
  /// The search ran out of steps before deciding.
  case unknown(searchedSteps: Int)

  /// True only for a proven `.linearizable`.
  public var isLinearizable: Bool {
    if case .linearizable = self { return true }
    return false
  }

  /// The violation, if the history was proven not linearizable.
  public var violation: LinearizabilityViolation? {
    if case .notLinearizable(let violation) = self { return violation }
    return nil
  }
}

/// Why a history is not linearizable, in terms of the operations of the part that failed.
///
/// All indices refer to the history given to `check`. The search found no order in which the
/// `blockingOperation` could take effect before it returned: after the longest legal prefix,
/// every operation free to go next (`candidateOperations`) was illegal from `stateAfterPrefix`
/// or led only to states already explored.
public struct LinearizabilityViolation: Sendable, Equatable, CustomStringConvertible {
  /// At most this many prefix operations are written into `report`.
  public static let reportedPrefixOperationsMax = 20

  /// Every operation of the part that has no legal order.
  public var partOperations: [Int]
  /// The longest legal order found, first operation first.
  public var longestLinearizablePrefix: [Int]
  /// The model state after that prefix, as the model describes it.
  public var stateAfterPrefix: String
  /// Operations called before `blockingOperation` returned that were not in the prefix.
  public var candidateOperations: [Int]
  /// An operation that had returned although nothing legal could come next.
  public var blockingOperation: Int
  /// A person-readable explanation of all the above.
  public var report: String

  public var description: String { report }
}
