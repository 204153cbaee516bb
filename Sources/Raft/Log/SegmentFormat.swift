import RaftCore

/// The byte layout of a log segment file, and the parser that tells a torn tail from damage.
///
/// A segment is a header followed by one record per entry, in index order:
///
///     header  = magic "O3RAFTLG" (8 bytes) | generation (u64) | crc32c of the 16 bytes before (u32)
///     record  = length (u32) | crc32c of the length (u32) | payload (length bytes) | crc32c of payload (u32)
///     payload = term (u64) | index (u64) | kind (u8: 0 normal, 1 membership change) | data
///
/// All integers are little-endian. This is the issue's `length | payload | crc32c` with one
/// addition: the length carries its own checksum. Without it a flipped bit in the length of a
/// record in the middle of the open segment would make that record seem to run past the end of
/// the file, which is exactly what a torn tail looks like, and open would silently drop every
/// later (possibly committed) entry. Ratis' varint length has that weakness.
///
/// The generation ties a segment to the compaction point it was written after: installing a
/// snapshot bumps it, so segments left behind by a crash in the middle of an install are
/// recognised as stale and deleted instead of being mistaken for a gap.
enum SegmentFormat {
  static let magic: [UInt8] = Array("O3RAFTLG".utf8)
  static let headerBytes = 20
  static let recordHeaderBytes = 8
  static let payloadHeaderBytes = 17
  static let recordTrailerBytes = 4
  /// Bytes a record adds to its entry's data.
  static let recordOverheadBytes = recordHeaderBytes + payloadHeaderBytes + recordTrailerBytes
  /// Zero-filled blocks (an extended file whose data never reached the disk) show up at this
  /// granularity: a damaged last record whose final aligned stretch is all zeros is torn.
  static let sectorBytes = 512

  static func header(generation: UInt64) -> [UInt8] {
    var bytes = magic
    bytes.appendLittleEndian(generation)
    bytes.appendLittleEndian(CRC32C.checksum(bytes))
    return bytes
  }

  static func recordBytes(dataBytes: Int) -> Int { recordOverheadBytes + dataBytes }

  static func appendRecord(_ entry: LogEntry, to buffer: inout [UInt8]) {
    let payloadStart = buffer.count + recordHeaderBytes
    var length: [UInt8] = []
    length.appendLittleEndian(UInt32(payloadHeaderBytes + entry.data.count))
    buffer.append(contentsOf: length)
    buffer.appendLittleEndian(CRC32C.checksum(length))
    buffer.appendLittleEndian(entry.term)
    buffer.appendLittleEndian(entry.index)
    buffer.append(entry.kind.rawValue)
    buffer.append(contentsOf: entry.data)
    buffer.appendLittleEndian(CRC32C.checksum(buffer[payloadStart...]))
  }

  /// What the first bytes of a segment file hold.
  enum Header: Equatable {
    case valid(generation: UInt64)
    /// Shorter than a header or all zeros: the file was created and the crash came before its
    /// header reached the disk.
    case torn
    case corrupt(String)
  }

  static func parseHeader(_ bytes: [UInt8]) -> Header {
    guard bytes.count >= headerBytes else { return .torn }
    let header = Array(bytes[0..<headerBytes])
    if header.allSatisfy({ $0 == 0 }) { return .torn }
    guard Array(header[0..<8]) == magic else { return .corrupt("not a log segment (bad magic)") }
    guard CRC32C.checksum(header[0..<16]) == header.littleEndianUInt32(at: 16) else {
      return .corrupt("segment header checksum mismatch")
    }
    return .valid(generation: header.littleEndianUInt64(at: 8))
  }

  /// What starts at an offset of a segment file.
  enum Parsed {
    case record(term: UInt64, index: UInt64, kind: EntryKind, data: Range<Int>, end: Int)
    /// The file ends inside this record, or the record failed its checks where the data never
    /// reached the disk (zeros): the debris of a crash during the write.
    case torn(String)
    /// The record was written whole and damaged since.
    case corrupt(String)
  }

  /// Parses the record at `offset` of `bytes`, which hold a file from its start to its end.
  static func parseRecord(_ bytes: [UInt8], at offset: Int) -> Parsed {
    let remaining = bytes.count - offset
    guard remaining >= recordHeaderBytes else { return .torn("file ends inside a record header") }
    let length = Int(bytes.littleEndianUInt32(at: offset))
    guard CRC32C.checksum(bytes[offset..<offset + 4]) == bytes.littleEndianUInt32(at: offset + 4)
    else {
      if bytes[offset...].allSatisfy({ $0 == 0 }) { return .torn("zero-filled tail") }
      return .corrupt("record length checksum mismatch")
    }
    guard length >= payloadHeaderBytes,
      length <= payloadHeaderBytes + DurableRaftLog.entryDataBytesMax
    else { return .corrupt("record length \(length) out of bounds") }
    let end = offset + recordHeaderBytes + length + recordTrailerBytes
    guard end <= bytes.count else { return .torn("file ends inside a record") }
    let payload = offset + recordHeaderBytes
    guard CRC32C.checksum(bytes[payload..<payload + length]) == bytes.littleEndianUInt32(at: end - 4)
    else {
      if end == bytes.count && endsInZeroSector(bytes, offset..<end) {
        return .torn("last record ends in a zero-filled block")
      }
      return .corrupt("record checksum mismatch")
    }
    guard let kind = EntryKind(rawValue: bytes[payload + 16]) else {
      return .corrupt("unknown entry kind \(bytes[payload + 16])")
    }
    return .record(
      term: bytes.littleEndianUInt64(at: payload), index: bytes.littleEndianUInt64(at: payload + 8),
      kind: kind, data: payload + payloadHeaderBytes..<payload + length, end: end)
  }

  /// Whether the record ends in zeros from its last sector boundary on (at least its last
  /// ``zeroTailBytesMin`` bytes): the signature of a file extended by a write whose last block
  /// never reached the disk.
  private static func endsInZeroSector(_ bytes: [UInt8], _ range: Range<Int>) -> Bool {
    let sectorStart = (range.upperBound - 1) / sectorBytes * sectorBytes
    let start = min(max(range.lowerBound, sectorStart), range.upperBound - zeroTailBytesMin)
    return bytes[start..<range.upperBound].allSatisfy { $0 == 0 }
  }

  /// A damaged record is taken as torn only if at least this many of its last bytes are zero,
  /// so that a stored checksum with a zero byte after a sector boundary is not mistaken.
  private static let zeroTailBytesMin = 8
}
