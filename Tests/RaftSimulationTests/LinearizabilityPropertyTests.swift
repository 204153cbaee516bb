import RaftSimulation
import O3TestSupport
import Testing

/// The checker against a store that is linearizable by construction (the "dumb" oracle):
/// every history such a store produces must be accepted, and altering what one read saw must
/// usually be caught.
@Suite(.watchdog, .ownThreads) struct LinearizabilityPropertyTests {
  static let historyCount = 300
  let checker = LinearizabilityChecker(model: KeyValueModel())

  @Test func historiesOfAnAtomicStoreAreAlwaysAccepted() {
    var random = SimulationRandom(seed: 0x5EED_0001)
    let generator = AtomicRegisterHistoryGenerator()
    for round in 0..<Self.historyCount {
      let (history, _) = generator.generate(random: &random)
      let result = checker.check(history)
      #expect(result == .linearizable, "history \(round): \(result)")
    }
  }

  @Test func historiesWithHeavyOverlapAndTimeoutsAreAccepted() {
    var random = SimulationRandom(seed: 0x5EED_0002)
    var generator = AtomicRegisterHistoryGenerator()
    generator.clientCount = 6
    generator.operationsPerClient = 12
    generator.keys = ["only"]
    generator.timeoutChancePercent = 15
    for round in 0..<(Self.historyCount / 3) {
      let (history, _) = generator.generate(random: &random)
      let result = checker.check(history)
      #expect(result == .linearizable, "history \(round): \(result)")
    }
  }

  /// One completed read is changed to a value its key held at some other time (or never):
  /// such a history is sometimes still linearizable (the read overlapped the write), but most
  /// are not, and a value never written is always caught.
  @Test func historiesWithOneAlteredReadAreUsuallyRejected() throws {
    var random = SimulationRandom(seed: 0x5EED_0003)
    let generator = AtomicRegisterHistoryGenerator()
    var mutated = 0
    var rejected = 0
    for _ in 0..<Self.historyCount {
      var (history, valuesByKey) = generator.generate(random: &random)
      let reads = history.indices.filter {
        if case .get = history[$0].input { return history[$0].returnTime != nil }
        return false
      }
      guard !reads.isEmpty else { continue }
      let read = random.element(of: reads)
      let returnTime = try #require(history[read].returnTime)
      guard case .value(let seen) = history[read].output else { continue }
      let alternatives = ([nil] + (valuesByKey[history[read].input.key] ?? []).map(Optional.some))
        .filter { $0 != seen }
      guard !alternatives.isEmpty else { continue }
      let altered = random.element(of: alternatives)
      history[read].outcome = .returned(.value(altered), returnTime: returnTime)
      mutated += 1
      if checker.check(history).violation != nil { rejected += 1 }

      history[read].outcome = .returned(.value("never-written"), returnTime: returnTime)
      #expect(checker.check(history).violation != nil)
    }
    #expect(mutated > Self.historyCount / 2)
    #expect(rejected * 10 >= mutated * 7, "rejected \(rejected) of \(mutated) altered histories")
  }
}
