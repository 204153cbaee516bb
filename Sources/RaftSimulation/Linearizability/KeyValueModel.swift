/// A client request to a key-value store.
public enum KeyValueInput: Hashable, Sendable {
  case put(key: String, value: String)
  case get(key: String)
  case delete(key: String)
  /// Sets `key` to `new` only if its value is `expected` (nil: the key is absent).
  case compareAndSet(key: String, expected: String?, new: String)

  /// The key the request touches.
  public var key: String {
    switch self {
    case .put(let key, _), .get(let key), .delete(let key), .compareAndSet(let key, _, _):
      return key
    }
  }
}

/// A key-value store's answer to a `KeyValueInput`.
public enum KeyValueOutput: Hashable, Sendable {
  /// A put or delete took effect.
  case done
  /// A get saw this value (nil: the key was absent).
  case value(String?)
  /// A compare-and-set found the expected value and replaced it (true), or did not (false).
  case swapped(Bool)
}

/// The sequential specification of a key-value store, partitioned per key.
///
/// The state is the whole map, so the model is also correct on an unpartitioned history; the
/// per-key partition only makes the search smaller (a part's map holds at most one key).
public struct KeyValueModel: LinearizabilityModel, Sendable {
  public typealias State = [String: String]
  public typealias Input = KeyValueInput
  public typealias Output = KeyValueOutput

  public init() {}

  public var initialState: State { [:] }

  public func step(_ state: State, input: Input, output: Output?) -> (legal: Bool, next: State) {
    var next = state
    switch (input, output) {
    case (.put(let key, let value), .done), (.put(let key, let value), nil):
      next[key] = value
      return (true, next)
    case (.delete(let key), .done), (.delete(let key), nil):
      next[key] = nil
      return (true, next)
    case (.get(let key), .value(let seen)):
      return (state[key] == seen, state)
    case (.get, nil):
      return (true, state)
    case (.compareAndSet(let key, let expected, let new), nil):
      if state[key] == expected { next[key] = new }
      return (true, next)
    case (.compareAndSet(let key, let expected, let new), .swapped(let swapped)):
      guard (state[key] == expected) == swapped else { return (false, state) }
      if swapped { next[key] = new }
      return (true, next)
    default:
      return (false, state)
    }
  }

  public func isReadOnly(_ input: Input) -> Bool {
    if case .get = input { return true }
    return false
  }

  /// One part per key, in order of the key's first appearance (deterministic).
  public func partition(_ operations: [HistoryOperation<Input, Output>]) -> [[Int]] {
    var partOfKey: [String: Int] = [:]
    var parts: [[Int]] = []
    for (index, operation) in operations.enumerated() {
      let key = operation.input.key
      if let part = partOfKey[key] {
        parts[part].append(index)
      } else {
        partOfKey[key] = parts.count
        parts.append([index])
      }
    }
    return parts
  }

  public func describe(state: State) -> String {
    guard !state.isEmpty else { return "{}" }
    let pairs = state.keys.sorted().map { "\($0)=\(state[$0] ?? "")" }
    return "{" + pairs.joined(separator: ", ") + "}"
  }
}
