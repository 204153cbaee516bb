/// Little-endian integer encoding for the log's on-disk formats.
extension Array where Element == UInt8 {
  mutating func appendLittleEndian(_ value: UInt32) {
    for shift in stride(from: 0, to: 32, by: 8) { append(UInt8(truncatingIfNeeded: value >> shift)) }
  }

  mutating func appendLittleEndian(_ value: UInt64) {
    for shift in stride(from: 0, to: 64, by: 8) { append(UInt8(truncatingIfNeeded: value >> shift)) }
  }

  func littleEndianUInt32(at offset: Int) -> UInt32 {
    var value: UInt32 = 0
    for byte in 0..<4 { value |= UInt32(self[offset + byte]) << (8 * byte) }
    return value
  }

  func littleEndianUInt64(at offset: Int) -> UInt64 {
    var value: UInt64 = 0
    for byte in 0..<8 { value |= UInt64(self[offset + byte]) << (8 * byte) }
    return value
  }
}
