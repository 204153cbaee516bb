/// A small seeded generator (SplitMix64): the same seed gives every fuzzer the same inputs, so a
/// failure replays exactly with `O3_FUZZ_SEED`.
///
/// Inputs are drawn from the generator only, never from the server's answers: a run's inputs do
/// not depend on timing, only the checks see what the server did.
struct FuzzRandom: RandomNumberGenerator {
  private var state: UInt64

  init(seed: UInt64) { state = seed }

  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var value = state
    value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
    value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
    return value ^ (value >> 31)
  }

  /// True with probability `numerator / denominator`.
  mutating func chance(_ numerator: Int, in denominator: Int) -> Bool {
    Int.random(in: 0..<denominator, using: &self) < numerator
  }

  mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self) }

  mutating func pick<Element>(_ elements: [Element]) -> Element {
    precondition(!elements.isEmpty, "nothing to pick from")
    return elements[Int.random(in: 0..<elements.count, using: &self)]
  }

  mutating func bytes(_ count: Int) -> [UInt8] {
    (0..<count).map { _ in UInt8.random(in: 0...255, using: &self) }
  }

  /// A generator of its own for one part of a run, so that adding draws to one fuzzer does not
  /// change the inputs of another.
  mutating func split() -> FuzzRandom { FuzzRandom(seed: next()) }
}
