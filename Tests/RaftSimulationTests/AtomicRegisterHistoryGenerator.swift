import RaftSimulation

/// Produces histories from a store that is linearizable by construction.
///
/// Each client issues operations one after another with random gaps and durations; each
/// operation takes effect atomically at a random instant inside its interval, and outputs are
/// computed by applying operations in the order of those instants. Some operations time out:
/// their client learns nothing, and they take effect at some later instant or never.
struct AtomicRegisterHistoryGenerator {
  typealias Operation = HistoryOperation<KeyValueInput, KeyValueOutput>

  var clientCount = 4
  var operationsPerClient = 15
  var keys = ["a", "b"]
  var timeoutChancePercent: UInt64 = 10

  private struct Planned {
    var operation: Operation
    var effectTime: UInt64?
    var tiebreak: UInt64
  }

  /// A history, and every value each key ever held (to mutate reads with).
  func generate(random: inout SimulationRandom)
    -> (history: [Operation], valuesByKey: [String: [String]])
  {
    var planned: [Planned] = []
    for client in 0..<UInt64(clientCount) {
      var clock = random.below(4)
      for sequence in 0..<operationsPerClient {
        let input = randomInput(client: client, sequence: sequence, random: &random)
        let call = clock + random.below(3)
        let duration = random.below(8)
        let timedOut = random.chance(timeoutChancePercent, in: 100)
        let effect: UInt64? =
          timedOut
          ? (random.chance(1, in: 2) ? call + random.below(40) : nil)
          : call + random.below(duration + 1)
        let outcome: OperationOutcome<KeyValueOutput> =
          timedOut ? .unknown : .returned(.done, returnTime: call + duration)
        planned.append(
          Planned(
            operation: Operation(clientID: client, input: input, callTime: call, outcome: outcome),
            effectTime: effect, tiebreak: random.next()))
        clock = call + duration + 1
      }
    }
    return applyInEffectOrder(planned)
  }

  private func randomInput(client: UInt64, sequence: Int, random: inout SimulationRandom)
    -> KeyValueInput
  {
    let key = random.element(of: keys)
    let value = "c\(client)-\(sequence)"
    switch random.below(10) {
    case 0..<4: return .get(key: key)
    case 4..<7: return .put(key: key, value: value)
    case 7: return .delete(key: key)
    default:
      let expectedClient = random.below(UInt64(clientCount))
      let expectedSequence = random.below(UInt64(sequence + 1))
      let expected = random.chance(1, in: 3) ? nil : "c\(expectedClient)-\(expectedSequence)"
      return .compareAndSet(key: key, expected: expected, new: value)
    }
  }

  private func applyInEffectOrder(_ planned: [Planned])
    -> (history: [Operation], valuesByKey: [String: [String]])
  {
    var history = planned.map(\.operation)
    let effectOrder = planned.indices
      .compactMap { index in
        planned[index].effectTime.map { (index, $0, planned[index].tiebreak) }
      }
      .sorted { ($0.1, $0.2) < ($1.1, $1.2) }
      .map(\.0)
    var store: [String: String] = [:]
    var valuesByKey: [String: [String]] = [:]
    for index in effectOrder {
      let output: KeyValueOutput
      switch history[index].input {
      case .put(let key, let value):
        store[key] = value
        valuesByKey[key, default: []].append(value)
        output = .done
      case .delete(let key):
        store[key] = nil
        output = .done
      case .get(let key):
        output = .value(store[key])
      case .compareAndSet(let key, let expected, let new):
        let swapped = store[key] == expected
        if swapped {
          store[key] = new
          valuesByKey[key, default: []].append(new)
        }
        output = .swapped(swapped)
      }
      if let returnTime = history[index].returnTime {
        history[index].outcome = .returned(output, returnTime: returnTime)
      }
    }
    return (history, valuesByKey)
  }
}
