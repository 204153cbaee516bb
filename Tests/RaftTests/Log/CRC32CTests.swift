import O3TestSupport
import Testing

@testable import Raft

@Suite("CRC32C", .watchdog)
struct CRC32CTests {
  @Test("the standard check value: \"123456789\" gives 0xE3069283")
  func checkValue() {
    #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
  }

  @Test("32 zero bytes give 0x8A9136AA (RFC 3720 B.4)")
  func zeros() {
    #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
    #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
  }

  @Test("slicing-by-8 agrees with the bitwise definition at every length and alignment")
  func agreesWithBitwise() {
    var random = LogTestRandom(seed: 7)
    for length in 0..<100 {
      let bytes = (0..<length + 3).map { _ in UInt8.random(in: 0...255, using: &random) }
      for start in 0..<3 {
        let slice = bytes[start..<start + length]
        #expect(CRC32C.checksum(slice) == bitwise(Array(slice)), "length \(length) start \(start)")
      }
    }
  }

  @Test("checksums compose: update(checksum(a), b) == checksum(a + b)")
  func composes() {
    let first = Array("Raft log ".utf8)
    let second = Array("records are checksummed".utf8)
    let composed = second.withUnsafeBytes { CRC32C.update(CRC32C.checksum(first), $0) }
    #expect(composed == CRC32C.checksum(first + second))
  }

  private func bitwise(_ bytes: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes {
      crc ^= UInt32(byte)
      for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
    }
    return ~crc
  }
}
