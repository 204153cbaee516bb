import NIOCore

/// The bytes of one gRPC request message for etcd's KV service, built once per run; each request
/// copies them and writes its key index into the key's place.
///
/// A gRPC message on the wire is a 5-byte prefix (a compression flag, then the length as a
/// big-endian UInt32) and the protobuf. The protobufs are written by hand:
/// `PutRequest { bytes key = 1; bytes value = 2; }` and
/// `RangeRequest { bytes key = 1; ...; bool serializable = 7; }`.
public struct KVRequestTemplate: Sendable {
  /// The HTTP/2 path of the call.
  public let path: String
  /// The whole gRPC message with key index 0.
  public let bytes: [UInt8]
  /// Where the key starts in `bytes`.
  let keyOffset: Int
  let keySize: Int

  public init(mode: LoadOptions.Mode, keySize: Int, valueSize: Int, serializable: Bool) {
    let key = [UInt8](repeating: UInt8(ascii: "0"), count: keySize)
    var message: [UInt8] = []
    Self.appendBytesField(1, key, to: &message)
    let keyOffset = 5 + message.count - keySize
    switch mode {
    case .put:
      path = "/etcdserverpb.KV/Put"
      Self.appendBytesField(2, Self.value(size: valueSize), to: &message)
    case .range:
      path = "/etcdserverpb.KV/Range"
      // serializable = false is protobuf's default and so is not written.
      if serializable { message += [7 << 3, 1] }
    }
    let length = UInt32(message.count)
    bytes = [0, UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)] + message
    self.keyOffset = keyOffset
    self.keySize = keySize
  }

  /// The message for key `index`: the index in decimal, right-aligned and padded with zeros.
  public func message(index: Int, allocator: ByteBufferAllocator) -> ByteBuffer {
    var buffer = allocator.buffer(capacity: bytes.count)
    buffer.writeBytes(bytes)
    var remaining = index
    var position = keyOffset + keySize - 1
    while remaining > 0, position >= keyOffset {
      buffer.setInteger(UInt8(ascii: "0") + UInt8(remaining % 10), at: position)
      remaining /= 10
      position -= 1
    }
    return buffer
  }

  /// A fixed pseudo-random value, so no two runs differ and compression gains little.
  static func value(size: Int) -> [UInt8] {
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    return (0..<size).map { _ in
      state ^= state << 13
      state ^= state >> 7
      state ^= state << 17
      return UInt8(truncatingIfNeeded: state)
    }
  }

  static func appendBytesField(_ field: UInt8, _ payload: [UInt8], to message: inout [UInt8]) {
    // Wire type 2: length-delimited.
    message.append(field << 3 | 2)
    appendVarint(UInt64(payload.count), to: &message)
    message += payload
  }

  static func appendVarint(_ value: UInt64, to message: inout [UInt8]) {
    var remaining = value
    while remaining >= 0x80 {
      message.append(UInt8(remaining & 0x7F) | 0x80)
      remaining >>= 7
    }
    message.append(UInt8(remaining))
  }
}
