/// A client's key-value request as it travels through the Raft log: who asked, which of its
/// operations it is, and what to do.
///
/// The (client, operation) pair makes every entry's payload unique, so the simulator can tell
/// which proposal an applied entry is and answer exactly the client that made it.
struct ClientCommand: Hashable, Sendable {
  var clientID: UInt64
  var operationID: UInt64
  var input: KeyValueInput

  /// The entry payload: a tag byte, the two ids (8 bytes each, big-endian), then the strings,
  /// each as a 2-byte length and UTF-8 bytes.
  func encoded() -> [UInt8] {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(32)
    switch input {
    case .put(let key, let value):
      bytes.append(1)
      appendHeader(to: &bytes)
      Self.append(key, to: &bytes)
      Self.append(value, to: &bytes)
    case .get(let key):
      bytes.append(2)
      appendHeader(to: &bytes)
      Self.append(key, to: &bytes)
    case .delete(let key):
      bytes.append(3)
      appendHeader(to: &bytes)
      Self.append(key, to: &bytes)
    case .compareAndSet(let key, let expected, let new):
      bytes.append(expected == nil ? 4 : 5)
      appendHeader(to: &bytes)
      Self.append(key, to: &bytes)
      Self.append(new, to: &bytes)
      if let expected { Self.append(expected, to: &bytes) }
    }
    return bytes
  }

  /// Decodes a payload written by `encoded()`; nil for anything else (a no-op is empty).
  init?(decoding bytes: [UInt8]) {
    var reader = Reader(bytes: bytes)
    guard let tag = reader.byte(), let clientID = reader.number(),
      let operationID = reader.number(), let key = reader.string()
    else { return nil }
    switch tag {
    case 1:
      guard let value = reader.string() else { return nil }
      input = .put(key: key, value: value)
    case 2: input = .get(key: key)
    case 3: input = .delete(key: key)
    case 4, 5:
      guard let new = reader.string() else { return nil }
      var expected: String?
      if tag == 5 {
        guard let value = reader.string() else { return nil }
        expected = value
      }
      input = .compareAndSet(key: key, expected: expected, new: new)
    default: return nil
    }
    guard reader.isAtEnd else { return nil }
    self.clientID = clientID
    self.operationID = operationID
  }

  init(clientID: UInt64, operationID: UInt64, input: KeyValueInput) {
    self.clientID = clientID
    self.operationID = operationID
    self.input = input
  }

  private func appendHeader(to bytes: inout [UInt8]) {
    for number in [clientID, operationID] {
      for shift in stride(from: 56, through: 0, by: -8) {
        bytes.append(UInt8(truncatingIfNeeded: number >> UInt64(shift)))
      }
    }
  }

  private static func append(_ string: String, to bytes: inout [UInt8]) {
    let utf8 = Array(string.utf8)
    precondition(utf8.count <= Int(UInt16.max), "simulated keys and values are short")
    bytes.append(UInt8(utf8.count >> 8))
    bytes.append(UInt8(utf8.count & 0xFF))
    bytes.append(contentsOf: utf8)
  }

  private struct Reader {
    let bytes: [UInt8]
    var position = 0

    var isAtEnd: Bool { position == bytes.count }

    mutating func byte() -> UInt8? {
      guard position < bytes.count else { return nil }
      defer { position += 1 }
      return bytes[position]
    }

    mutating func number() -> UInt64? {
      guard position + 8 <= bytes.count else { return nil }
      var value: UInt64 = 0
      for byte in bytes[position..<(position + 8)] { value = value << 8 | UInt64(byte) }
      position += 8
      return value
    }

    mutating func string() -> String? {
      guard position + 2 <= bytes.count else { return nil }
      let length = Int(bytes[position]) << 8 | Int(bytes[position + 1])
      position += 2
      guard position + length <= bytes.count else { return nil }
      defer { position += length }
      return String(decoding: bytes[position..<(position + length)], as: UTF8.self)
    }
  }
}
