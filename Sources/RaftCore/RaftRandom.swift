/// The source of the election timeout jitter, injected so that a seed replays a run exactly.
public protocol RaftRandom: Sendable {
  /// A uniformly chosen integer in `0..<upperBound`; `upperBound` is positive.
  mutating func next(upperBound: Int) -> Int
}

/// SplitMix64: a small, fast, seedable generator whose output is fixed by its seed on every
/// platform and toolchain.
public struct SplitMix64Random: RaftRandom, Hashable {
  private var state: UInt64

  public init(seed: UInt64) {
    state = seed
  }

  /// The next 64 random bits.
  public mutating func nextBits() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var mixed = state
    mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
    mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
    return mixed ^ (mixed >> 31)
  }

  public mutating func next(upperBound: Int) -> Int {
    precondition(upperBound > 0, "upper bound must be positive")
    let bound = UInt64(upperBound)
    // Rejection sampling keeps the draw unbiased for bounds that do not divide 2^64.
    let limit = UInt64.max - UInt64.max % bound
    while true {
      let draw = nextBits()
      if draw < limit { return Int(draw % bound) }
    }
  }
}
