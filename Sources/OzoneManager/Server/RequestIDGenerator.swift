import Synchronization

/// Random-looking, never-repeating 64-bit ids for preExecute (a key session's client id), without
/// a `getrandom` system call per request: the system generator seeds it once, then each id is the
/// SplitMix64 finaliser, a bijection, of the seed plus a counter times an odd constant, so no two
/// ids of one process are equal. Another process (a new leader) has another seed.
final class RequestIDGenerator: Sendable {
  private let seed: UInt64
  private let counter = Atomic<UInt64>(0)

  init(seed: UInt64 = UInt64.random(in: 0...UInt64.max)) {
    self.seed = seed
  }

  /// The next id, never 0 (0 means "none" in Ozone's protocol).
  func next() -> UInt64 {
    while true {
      let step = counter.add(1, ordering: .relaxed).newValue
      let id = Self.mix(seed &+ step &* 0x9E37_79B9_7F4A_7C15)
      if id != 0 { return id }
    }
  }

  private static func mix(_ value: UInt64) -> UInt64 {
    var z = value
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}
