/// Structure-blind mutations of a byte string: what a broken client, a bit flip on the wire or a
/// hostile peer sends. Structure-aware mutators build on these for the parts they do not know.
enum ByteMutator {
  /// Values that sit on the edges of integer encodings (sign bits, all ones, zero).
  static let interestingBytes: [UInt8] = [0x00, 0x01, 0x7F, 0x80, 0xFE, 0xFF]
  /// Lengths and counts on the edges: zero, one, signed and unsigned limits, 2^31 ± 1.
  static let interestingIntegers: [UInt64] = [
    0, 1, 0x7F, 0x80, 0xFF, 0xFFFF, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 0x1_0000_0000,
    UInt64(Int64.max), UInt64(bitPattern: Int64.min), UInt64.max,
  ]

  /// Applies 1 to `maxMutations` random mutations; `donors` are other inputs to splice from.
  static func mutate(
    _ input: [UInt8], donors: [[UInt8]] = [], maxMutations: Int = 4, random: inout FuzzRandom
  ) -> [UInt8] {
    var bytes = input
    for _ in 0..<random.int(1...maxMutations) {
      bytes = mutateOnce(bytes, donors: donors, random: &random)
    }
    return bytes
  }

  private static func mutateOnce(_ input: [UInt8], donors: [[UInt8]], random: inout FuzzRandom) -> [UInt8] {
    var bytes = input
    guard !bytes.isEmpty else { return random.bytes(random.int(1...16)) }
    let at = random.int(0...bytes.count - 1)
    switch random.int(0...9) {
    case 0:
      bytes[at] ^= UInt8(1) << UInt8(random.int(0...7))
    case 1:
      bytes[at] = random.pick(interestingBytes)
    case 2:
      bytes.insert(contentsOf: random.bytes(random.int(1...16)), at: at)
    case 3:
      bytes.removeSubrange(at..<min(bytes.count, at + random.int(1...16)))
    case 4:
      let end = min(bytes.count, at + random.int(1...32))
      bytes.insert(contentsOf: bytes[at..<end], at: end)
    case 5:
      bytes = Array(bytes.prefix(at))
    case 6:
      bytes += random.bytes(random.int(1...64))
    case 7:
      let donor = donors.isEmpty ? random.bytes(32) : random.pick(donors)
      bytes = Array(bytes.prefix(at)) + donor.suffix(random.int(0...donor.count))
    case 8:
      overwriteInteger(&bytes, at: at, width: random.pick([2, 4, 8]), random: &random)
    default:
      bytes[at] = UInt8.random(in: 0...255, using: &random)
    }
    return bytes
  }

  /// Overwrites up to `width` bytes at `at` with an edge-case integer, big-endian.
  private static func overwriteInteger(_ bytes: inout [UInt8], at: Int, width: Int, random: inout FuzzRandom) {
    let value = random.pick(interestingIntegers)
    for offset in 0..<width where at + offset < bytes.count {
      bytes[at + offset] = UInt8(truncatingIfNeeded: value >> UInt64(8 * (width - 1 - offset)))
    }
  }
}
