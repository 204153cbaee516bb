// Hand-written (not generated): reads one field of a serialized OMResponse without decoding it.
import SwiftProtobuf

extension OMResponse {
  /// The `status` (field 2) of a serialized OMResponse, read from its top-level fields alone:
  /// the leader answers a write with the bytes the state machine serialized, and only its
  /// metrics need the status. nil when the bytes are not a well-formed message.
  public static func status(inSerialized bytes: [UInt8]) -> Status? {
    var reader = WireFieldReader(bytes: bytes)
    var status = Status.unspecified
    while !reader.isAtEnd {
      guard let tag = reader.varint() else { return nil }
      let field = tag >> 3
      switch tag & 7 {
      case 0:
        guard let value = reader.varint() else { return nil }
        if field == 2 { status = Status(rawValue: Int(truncatingIfNeeded: value)) ?? .UNRECOGNIZED(Int(truncatingIfNeeded: value)) }
      case 1: guard reader.skip(8) else { return nil }
      case 2:
        guard let length = reader.varint(), length <= UInt64(Int.max), reader.skip(Int(length)) else { return nil }
      case 5: guard reader.skip(4) else { return nil }
      default: return nil
      }
    }
    return status
  }
}

/// A cursor over protobuf wire format: varints and skips, nothing more.
private struct WireFieldReader {
  let bytes: [UInt8]
  var offset = 0

  var isAtEnd: Bool { offset >= bytes.count }

  mutating func varint() -> UInt64? {
    var value: UInt64 = 0
    var shift: UInt64 = 0
    while offset < bytes.count, shift < 64 {
      let byte = bytes[offset]
      offset += 1
      value |= UInt64(byte & 0x7f) << shift
      if byte & 0x80 == 0 { return value }
      shift += 7
    }
    return nil
  }

  mutating func skip(_ count: Int) -> Bool {
    guard count >= 0, count <= bytes.count - offset else { return false }
    offset += count
    return true
  }
}
