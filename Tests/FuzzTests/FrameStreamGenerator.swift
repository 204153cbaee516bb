/// The bytes one fuzzed connection sends to an O3RPC port: a few frames, each valid, mutated,
/// lying about its length or header, or not a frame at all; sometimes hundreds of tiny frames.
///
/// The generator does not predict the server's answers: `O3RPCStreamModel` works them out from
/// the bytes, so a mutation that happens to stay valid is judged as valid.
struct FrameStreamGenerator {
  /// The methods this port serves, each with a generator of payloads for it.
  let methods: [(name: String, payload: (inout FuzzRandom) -> [UInt8])]
  let maxFrameBytes: Int

  /// Method names no port serves: unknown, empty, at the 255-byte limit, not UTF-8.
  static let strangeMethods: [[UInt8]] = [
    Array("om.noSuchMethod".utf8), [], Array(String(repeating: "m", count: 255).utf8), [0xC3, 0x28, 0x2E],
    Array("raft.messages\u{0}".utf8), Array("om.submitRequest ".utf8),
  ]
  static let edgeDeadlines: [UInt32] = [0, 1, 1_000, UInt32.max]
  /// Frames really over the limit are sent only up to this size (the Raft port allows 64 MiB).
  static let largestFrameSentBytes = 1 << 20

  func stream(random: inout FuzzRandom) -> [UInt8] {
    var callId = random.chance(1, in: 4) ? random.pick(ByteMutator.interestingIntegers) : 1
    var bytes: [UInt8] = []
    for _ in 0..<random.int(1...6) {
      callId &+= 1
      let frame = validFrame(callId: callId, random: &random)
      // Most frames keep the stream framed, so that what follows a broken frame is reached too.
      switch random.int(0...19) {
      case 0...9: bytes += frame
      case 10, 11: bytes += ByteMutator.mutate(frame, random: &random)
      case 12, 13: bytes += brokenHeader(frame, random: &random)
      case 14: bytes += lyingLength(frame, random: &random)
      case 15: bytes += manySmallFrames(firstCallId: &callId, random: &random)
      case 16, 17: bytes += frame + frame
      case 18: bytes += random.bytes(random.int(1...64))
      default: bytes += oversizedFrame(callId: callId, random: &random)
      }
    }
    return bytes
  }

  private func validFrame(callId: UInt64, random: inout FuzzRandom) -> [UInt8] {
    let deadline = random.chance(1, in: 4) ? random.pick(Self.edgeDeadlines) : 0
    if random.chance(1, in: 6) {
      return O3RPCWire.request(
        callId: callId, method: random.pick(Self.strangeMethods), payload: random.bytes(random.int(0...16)),
        deadlineMilliseconds: deadline)
    }
    let method = random.pick(methods)
    return O3RPCWire.request(
      callId: callId, method: Array(method.name.utf8), payload: method.payload(&random), deadlineMilliseconds: deadline)
  }

  /// A frame whose header is wrong past the call id: the kind, the name's length or its bytes.
  private func brokenHeader(_ frame: [UInt8], random: inout FuzzRandom) -> [UInt8] {
    var frame = frame
    switch random.int(0...3) {
    case 0: frame[4] = random.pick([0, 2, 3, 4, 0x7F, 0xFF])
    case 1: frame[17] = random.pick([0, 255, frame[17] &+ 1])
    case 2 where frame[17] > 0: frame[18] = random.pick(ProtobufMutator.invalidUTF8)[0]
    default:
      // Cut inside the header: the frame is complete but holds less than a header.
      let kept = random.int(9...min(17, frame.count - 5))
      frame = O3RPCWire.integer(UInt64(kept), width: 4) + frame[4..<(4 + kept)]
    }
    return frame
  }

  /// The frame's body behind a length that does not match it.
  private func lyingLength(_ frame: [UInt8], random: inout FuzzRandom) -> [UInt8] {
    let actual = UInt64(frame.count - 4)
    let declared = random.pick([
      0, 1, 8, 9, 13, actual - 1, actual + 1, UInt64(maxFrameBytes), UInt64(maxFrameBytes) + 1, 0x7FFF_FFFF, 0x8000_0000,
      0xFFFF_FFFF,
    ])
    return O3RPCWire.integer(declared, width: 4) + frame[4...]
  }

  /// Up to 400 frames of a few bytes each: a flood of cheap calls in one write.
  private func manySmallFrames(firstCallId callId: inout UInt64, random: inout FuzzRandom) -> [UInt8] {
    var bytes: [UInt8] = []
    let method = random.chance(1, in: 2) ? Array("om.noSuchMethod".utf8) : []
    for _ in 0..<random.int(50...400) {
      callId &+= 1
      bytes += O3RPCWire.request(callId: callId, method: method, payload: [])
    }
    return bytes
  }

  /// A frame whose body really is over the limit (not just its length field); where the limit
  /// is too large to send cheaply, a frame that only says so.
  private func oversizedFrame(callId: UInt64, random: inout FuzzRandom) -> [UInt8] {
    guard maxFrameBytes <= Self.largestFrameSentBytes else {
      return lyingLength(validFrame(callId: callId, random: &random), random: &random)
    }
    let method = random.pick(methods).name
    let overhead = 14 + method.utf8.count
    let payload = [UInt8](repeating: 0x41, count: maxFrameBytes - overhead + random.int(1...16))
    return O3RPCWire.request(callId: callId, method: Array(method.utf8), payload: payload)
  }
}
