/// The simulator's one source of randomness: SplitMix64 from a 64-bit seed.
///
/// Every choice a simulation makes (fault, delay, timeout jitter, client request) draws from one
/// of these, so a seed replays a run exactly. The helpers below use only `next()` and integer
/// arithmetic, so a seed means the same run on every toolchain, unlike the standard library's
/// `random(in:using:)` whose algorithm is not promised to stay the same.
public struct SimulationRandom: RandomNumberGenerator, Sendable {
  private var state: UInt64

  public init(seed: UInt64) {
    state = seed
  }

  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var mixed = state
    mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
    mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
    return mixed ^ (mixed >> 31)
  }

  /// A uniform integer in `0..<bound` (rejection sampling, so no modulo bias).
  public mutating func below(_ bound: UInt64) -> UInt64 {
    precondition(bound > 0, "below(_:) needs a positive bound")
    let limit = UInt64.max - UInt64.max % bound
    while true {
      let draw = next()
      if draw < limit { return draw % bound }
    }
  }

  /// A uniform integer in `range`.
  public mutating func integer(in range: ClosedRange<Int>) -> Int {
    let width = UInt64(range.upperBound - range.lowerBound) + 1
    return range.lowerBound + Int(below(width))
  }

  /// A uniform index into a non-empty collection of `count` elements.
  public mutating func index(below count: Int) -> Int {
    precondition(count > 0, "index(below:) needs a non-empty collection")
    return Int(below(UInt64(count)))
  }

  /// True with probability `numerator / denominator`.
  public mutating func chance(_ numerator: UInt64, in denominator: UInt64) -> Bool {
    below(denominator) < numerator
  }

  /// A uniformly chosen element of a non-empty array.
  public mutating func element<Element>(of array: [Element]) -> Element {
    array[index(below: array.count)]
  }

  /// A fresh generator for a sub-purpose, so that drawing more for one purpose does not shift
  /// every later draw of another (keeps a seed's fault schedule stable when a workload changes).
  public mutating func split() -> SimulationRandom {
    SimulationRandom(seed: next())
  }
}
