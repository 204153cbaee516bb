/// The parts of the POSIX ustar format the checkpoint stream uses: regular files in one flat
/// directory, 512-byte headers, contents padded to 512 bytes, two zero blocks at the end.
///
/// Sizes of 8 GiB and more do not fit the 11 octal digits of the size field; they are written
/// in the base-256 form GNU tar and libarchive read (high bit of the first byte set).
public enum OMTarFormat {
  public static let blockBytes = 512
  /// Longest name the header's name field holds (no prefix field is used).
  public static let maxNameBytes = 100
  /// Largest size the octal size field holds: 8^11 - 1.
  static let maxOctalSize: UInt64 = (1 << 33) - 1

  /// The two zero blocks that end an archive.
  public static let endOfArchive = [UInt8](repeating: 0, count: 2 * blockBytes)

  /// Zero bytes that pad an entry of `sizeBytes` to a whole block.
  public static func padding(forSizeBytes sizeBytes: UInt64) -> [UInt8] {
    let remainder = Int(sizeBytes % UInt64(blockBytes))
    return remainder == 0 ? [] : [UInt8](repeating: 0, count: blockBytes - remainder)
  }

  /// The header of a regular file (mode 0644, owner 0, modification time `modifiedSeconds`).
  public static func header(name: String, sizeBytes: UInt64, modifiedSeconds: UInt64 = 0) throws -> [UInt8] {
    let nameBytes = Array(name.utf8)
    guard !nameBytes.isEmpty, nameBytes.count <= maxNameBytes, !nameBytes.contains(0) else {
      throw OMCheckpointError(.malformedArchive, "tar entry name '\(name)' must be 1 to \(maxNameBytes) bytes without NUL")
    }
    var header = [UInt8](repeating: 0, count: blockBytes)
    header.replaceSubrange(0..<nameBytes.count, with: nameBytes)
    put(octal: 0o644, width: 8, at: 100, in: &header)
    put(octal: 0, width: 8, at: 108, in: &header)
    put(octal: 0, width: 8, at: 116, in: &header)
    if sizeBytes <= maxOctalSize {
      put(octal: sizeBytes, width: 12, at: 124, in: &header)
    } else {
      header[124] = 0x80
      for position in 0..<8 { header[128 + position] = UInt8(truncatingIfNeeded: sizeBytes >> (56 - 8 * UInt64(position))) }
    }
    put(octal: modifiedSeconds, width: 12, at: 136, in: &header)
    header[156] = UInt8(ascii: "0")
    header.replaceSubrange(257..<265, with: Array("ustar\u{0}00".utf8))
    for position in 148..<156 { header[position] = UInt8(ascii: " ") }
    let checksum = header.reduce(UInt64(0)) { $0 + UInt64($1) }
    put(octal: checksum, width: 7, at: 148, in: &header)
    header[155] = UInt8(ascii: " ")
    return header
  }

  /// Writes `value` as zero-padded octal digits followed by one NUL, `width` bytes in all.
  private static func put(octal value: UInt64, width: Int, at offset: Int, in header: inout [UInt8]) {
    var remaining = value
    for position in stride(from: offset + width - 2, through: offset, by: -1) {
      header[position] = UInt8(ascii: "0") + UInt8(remaining & 7)
      remaining >>= 3
    }
    header[offset + width - 1] = 0
  }

  /// Reads a header block: nil for a zero block (the end of the archive).
  static func parseHeader(_ block: ArraySlice<UInt8>) throws -> (name: String, sizeBytes: UInt64)? {
    let header = Array(block)
    precondition(header.count == blockBytes)
    if header.allSatisfy({ $0 == 0 }) { return nil }
    guard header[257..<262].elementsEqual("ustar".utf8) else {
      throw OMCheckpointError(.malformedArchive, "a tar header lacks the ustar magic")
    }
    let stored = try octal(header[148..<156])
    var computed: UInt64 = 0
    for (position, byte) in header.enumerated() {
      computed += (148..<156).contains(position) ? UInt64(UInt8(ascii: " ")) : UInt64(byte)
    }
    guard stored == computed else {
      throw OMCheckpointError(.malformedArchive, "a tar header's checksum is \(stored), its bytes add up to \(computed)")
    }
    guard header[156] == UInt8(ascii: "0") || header[156] == 0 else {
      throw OMCheckpointError(.malformedArchive, "tar entry type '\(UnicodeScalar(header[156]))' is not a regular file")
    }
    let nameBytes = header[0..<maxNameBytes].prefix { $0 != 0 }
    let size: UInt64
    if header[124] & 0x80 != 0 {
      size = header[128..<136].reduce(UInt64(0)) { ($0 << 8) | UInt64($1) }
    } else {
      size = try octal(header[124..<136])
    }
    return (String(decoding: nameBytes, as: UTF8.self), size)
  }

  private static func octal(_ field: ArraySlice<UInt8>) throws -> UInt64 {
    var value: UInt64 = 0
    for byte in field where byte != 0 && byte != UInt8(ascii: " ") {
      guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "7"), value < (1 << 60) else {
        throw OMCheckpointError(.malformedArchive, "a tar header field is not octal")
      }
      value = value << 3 | UInt64(byte - UInt8(ascii: "0"))
    }
    return value
  }
}
