/// The protobuf wire format, written by hand so that a fuzzer can build what no encoder would:
/// wrong wire types, lengths that lie, unknown fields nested thousands deep, invalid UTF-8.
enum ProtobufWire {
  static let varint: UInt8 = 0
  static let fixed64: UInt8 = 1
  static let lengthDelimited: UInt8 = 2
  static let startGroup: UInt8 = 3
  static let endGroup: UInt8 = 4
  static let fixed32: UInt8 = 5
  /// The largest field number protobuf allows (2^29 - 1).
  static let maxFieldNumber: UInt64 = (1 << 29) - 1

  /// One field of a message as it appears on the wire (a group's start and end are fields of
  /// their own here: the parser stays one level deep).
  struct Field: Equatable {
    var number: UInt64
    var wireType: UInt8
    /// Varint: its encoded bytes; fixed: 4 or 8 bytes; length-delimited: the content; groups: empty.
    var payload: [UInt8]
  }

  static func encodeVarint(_ value: UInt64) -> [UInt8] {
    var value = value
    var bytes: [UInt8] = []
    while value >= 0x80 {
      bytes.append(UInt8(value & 0x7F) | 0x80)
      value >>= 7
    }
    bytes.append(UInt8(value))
    return bytes
  }

  static func tag(_ number: UInt64, _ wireType: UInt8) -> [UInt8] {
    encodeVarint(number << 3 | UInt64(wireType & 7))
  }

  static func encode(_ field: Field) -> [UInt8] {
    var bytes = tag(field.number, field.wireType)
    if field.wireType == lengthDelimited { bytes += encodeVarint(UInt64(field.payload.count)) }
    return bytes + field.payload
  }

  static func encode(_ fields: [Field]) -> [UInt8] { fields.flatMap { encode($0) } }

  /// The fields of `bytes`, one level deep; nil when the bytes are not a sequence of fields.
  static func parse(_ bytes: [UInt8]) -> [Field]? {
    var fields: [Field] = []
    var position = 0
    while position < bytes.count {
      guard let (key, keyEnd) = readVarint(bytes, at: position) else { return nil }
      let number = key >> 3
      let wireType = UInt8(key & 7)
      guard number > 0, number <= maxFieldNumber else { return nil }
      position = keyEnd
      let payloadStart: Int
      let payloadEnd: Int
      switch wireType {
      case varint:
        guard let (_, end) = readVarint(bytes, at: position) else { return nil }
        (payloadStart, payloadEnd) = (position, end)
      case fixed64, fixed32:
        let width = wireType == fixed64 ? 8 : 4
        guard bytes.count - position >= width else { return nil }
        (payloadStart, payloadEnd) = (position, position + width)
      case lengthDelimited:
        guard let (length, start) = readVarint(bytes, at: position), length <= UInt64(bytes.count - start) else {
          return nil
        }
        (payloadStart, payloadEnd) = (start, start + Int(length))
      case startGroup, endGroup:
        (payloadStart, payloadEnd) = (position, position)
      default:
        return nil
      }
      fields.append(Field(number: number, wireType: wireType, payload: Array(bytes[payloadStart..<payloadEnd])))
      position = payloadEnd
    }
    return fields
  }

  /// A varint at `position` and the index after it; nil when truncated or longer than 10 bytes.
  static func readVarint(_ bytes: [UInt8], at position: Int) -> (UInt64, Int)? {
    var value: UInt64 = 0
    var shift: UInt64 = 0
    var index = position
    while index < bytes.count, shift < 64 {
      let byte = bytes[index]
      value |= UInt64(byte & 0x7F) << shift
      index += 1
      if byte & 0x80 == 0 { return (value, index) }
      shift += 7
    }
    return nil
  }

  /// `depth` length-delimited fields, each holding the next: what a decoder that recursed into
  /// unknown fields would overflow its stack on.
  static func nestedLengthDelimited(field: UInt64, depth: Int) -> [UInt8] {
    var inner: [UInt8] = []
    for _ in 0..<depth { inner = encode(Field(number: field, wireType: lengthDelimited, payload: inner)) }
    return inner
  }

  /// `depth` groups opened, then closed unless `balanced` is false.
  static func nestedGroups(field: UInt64, depth: Int, balanced: Bool) -> [UInt8] {
    let open = Array(repeating: tag(field, startGroup), count: depth).flatMap { $0 }
    let close = Array(repeating: tag(field, endGroup), count: balanced ? depth : depth / 2).flatMap { $0 }
    return open + close
  }
}
