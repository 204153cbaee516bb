/// Mutations of an encoded protobuf message that know the wire format: each keeps most of the
/// message valid and breaks one thing, so that the decoder's and the validator's edge cases are
/// reached rather than the first byte's.
enum ProtobufMutator {
  /// Invalid UTF-8: a lone continuation byte, an overlong '/', a surrogate, a truncated sequence,
  /// a byte never valid, a code point above U+10FFFF.
  static let invalidUTF8: [[UInt8]] = [[0x80], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xE2, 0x82], [0xFF], [0xF4, 0x90, 0x80, 0x80]]
  /// Field numbers no message of ours uses: near the top, protobuf's reserved range, the maximum.
  static let unknownFieldNumbers: [UInt64] = [99, 999, 19_000, 65_535, ProtobufWire.maxFieldNumber]
  /// Nesting depths around decoders' usual limits (64, 100) and far beyond.
  static let nestingDepths = [10, 63, 64, 65, 99, 100, 101, 1_000, 10_000]

  /// The largest message a mutation may produce: past every server limit (64 KiB in the
  /// fuzzers' OMs), yet cheap to build; a mutation that would grow past it is skipped.
  static let maxOutputBytes = 200_000

  /// Applies 1 to `maxMutations` mutations; falls back to byte mutations where the bytes are not
  /// a message.
  static func mutate(_ input: [UInt8], maxMutations: Int = 3, random: inout FuzzRandom) -> [UInt8] {
    var bytes = input
    for _ in 0..<random.int(1...maxMutations) {
      let mutated = mutateOnce(bytes, depth: 0, random: &random)
      if mutated.count <= maxOutputBytes { bytes = mutated }
    }
    return bytes
  }

  private static func mutateOnce(_ input: [UInt8], depth: Int, random: inout FuzzRandom) -> [UInt8] {
    guard var fields = ProtobufWire.parse(input), !fields.isEmpty, !random.chance(1, in: 12) else {
      return ByteMutator.mutate(input, random: &random)
    }
    let at = random.int(0...fields.count - 1)
    switch random.int(0...11) {
    case 0:
      fields[at].number = random.pick(unknownFieldNumbers)
    case 1:
      fields[at].wireType = UInt8(random.int(0...7))
    case 2:
      fields.insert(fields[at], at: random.int(0...fields.count))
    case 3:
      fields.remove(at: at)
    case 4:
      fields.shuffle(using: &random)
    case 5:
      let copies = min(random.pick([2, 100, 1_001, 5_000]), maxOutputBytes / max(1, fields[at].payload.count + 2))
      fields += Array(repeating: fields[at], count: copies)
    case 6:
      return ProtobufWire.encode(fields) + deepUnknownField(random: &random)
    case 7:
      return lyingLength(fields, at: at, random: &random)
    default:
      return mutatePayload(&fields, at: at, depth: depth, random: &random)
    }
    return ProtobufWire.encode(fields)
  }

  /// Changes what one field carries: an edge-case number, invalid UTF-8, a huge string, or a
  /// mutation inside the sub-message it holds.
  private static func mutatePayload(
    _ fields: inout [ProtobufWire.Field], at: Int, depth: Int, random: inout FuzzRandom
  ) -> [UInt8] {
    switch fields[at].wireType {
    case ProtobufWire.varint:
      fields[at].payload = random.chance(1, in: 6)
        ? [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]
        : ProtobufWire.encodeVarint(random.pick(ByteMutator.interestingIntegers))
    case ProtobufWire.lengthDelimited:
      var content = fields[at].payload
      switch random.int(0...3) {
      case 0 where depth < 4:
        content = mutateOnce(content, depth: depth + 1, random: &random)
      case 1:
        let bad = random.pick(invalidUTF8)
        content.insert(contentsOf: bad, at: random.int(0...content.count))
      case 2:
        let length = random.pick([64, 4_097, 70_000])
        content = Array(repeating: UInt8(ascii: random.pick(["a", "K", "/", "."])), count: length)
      default:
        content = ByteMutator.mutate(content, random: &random)
      }
      fields[at].payload = content
    default:
      fields[at].payload = random.bytes(fields[at].payload.count)
    }
    return ProtobufWire.encode(fields)
  }

  /// An unknown field that nests deeply, as sub-messages or as groups (balanced or not).
  private static func deepUnknownField(random: inout FuzzRandom) -> [UInt8] {
    let number = random.pick(unknownFieldNumbers)
    let depth = random.pick(nestingDepths)
    switch random.int(0...2) {
    case 0: return ProtobufWire.nestedLengthDelimited(field: number, depth: min(depth, 2_000))
    case 1: return ProtobufWire.nestedGroups(field: number, depth: depth, balanced: true)
    default: return ProtobufWire.nestedGroups(field: number, depth: depth, balanced: false)
    }
  }

  /// Re-encodes the message with one length field that does not match its content: longer than
  /// what follows, zero, or a 10-byte "negative" length.
  private static func lyingLength(_ fields: [ProtobufWire.Field], at: Int, random: inout FuzzRandom) -> [UInt8] {
    var bytes: [UInt8] = []
    for (index, field) in fields.enumerated() {
      guard index == at, field.wireType == ProtobufWire.lengthDelimited else {
        bytes += ProtobufWire.encode(field)
        continue
      }
      let declared = random.pick([
        0, UInt64(field.payload.count + 1), UInt64(field.payload.count + 1_000), UInt64(Int32.max), UInt64.max,
      ])
      bytes += ProtobufWire.tag(field.number, field.wireType) + ProtobufWire.encodeVarint(declared) + field.payload
    }
    return bytes
  }
}
