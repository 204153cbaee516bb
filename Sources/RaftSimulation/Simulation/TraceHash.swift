/// FNV-1a (64-bit) over the numbers that describe each simulation event: two runs of one seed
/// must produce the same value, and any divergence changes it.
public struct TraceHash: Hashable, Sendable, CustomStringConvertible {
  private static let offsetBasis: UInt64 = 0xCBF2_9CE4_8422_2325
  private static let prime: UInt64 = 0x0000_0100_0000_01B3

  /// The hash of everything fed so far.
  public private(set) var value: UInt64 = Self.offsetBasis

  public init() {}

  /// Feeds the eight bytes of `number`, least significant first.
  public mutating func combine(_ number: UInt64) {
    var remaining = number
    for _ in 0..<8 {
      value = (value ^ (remaining & 0xFF)) &* Self.prime
      remaining >>= 8
    }
  }

  /// Feeds the bytes of `bytes` and their count.
  public mutating func combine(bytes: [UInt8]) {
    combine(UInt64(bytes.count))
    for byte in bytes {
      value = (value ^ UInt64(byte)) &* Self.prime
    }
  }

  public var description: String {
    let digits = String(value, radix: 16)
    return String(repeating: "0", count: 16 - digits.count) + digits
  }

  /// The FNV-1a hash of `bytes` alone, for content digests.
  public static func of(_ bytes: [UInt8]) -> UInt64 {
    var hash = TraceHash()
    hash.combine(bytes: bytes)
    return hash.value
  }
}
