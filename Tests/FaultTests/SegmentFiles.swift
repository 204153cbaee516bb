import Foundation
import RaftSimulation

/// Damages a stopped OM's Raft log the way disks do, reading the segment layout the log
/// documents (Sources/Raft/Log/SegmentFormat.swift): a 20-byte header, then records of
/// `length (u32) | crc of length (u32) | payload (length bytes) | crc of payload (u32)`.
enum SegmentFiles {
  static let headerBytes = 20
  static let recordOverheadBytes = 12

  /// Closed segments (`log_<first>-<last>`), lowest index first.
  static func closedSegments(in directory: String) -> [String] {
    segments(in: directory).filter { !$0.hasPrefix("log_inprogress_") }.map { "\(directory)/\($0)" }
  }

  /// The open segment (`log_inprogress_<first>`) with the highest first index, if any.
  static func openSegment(in directory: String) -> String? {
    segments(in: directory).filter { $0.hasPrefix("log_inprogress_") }.last.map { "\(directory)/\($0)" }
  }

  private static func segments(in directory: String) -> [String] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
    func first(_ name: String) -> UInt64 {
      let digits = name.dropFirst(name.hasPrefix("log_inprogress_") ? "log_inprogress_".count : "log_".count)
      return UInt64(digits.prefix { $0.isNumber }) ?? 0
    }
    return names.filter { $0.hasPrefix("log_") && !$0.hasSuffix(".tmp") }.sorted { first($0) < first($1) }
  }

  /// Where each whole record of a segment starts, and where the last one ends.
  static func records(_ bytes: [UInt8]) -> (starts: [Int], end: Int) {
    var starts: [Int] = []
    var offset = headerBytes
    while offset + 8 <= bytes.count {
      let length = littleEndian32(bytes, at: offset)
      let end = offset + recordOverheadBytes + length
      guard length > 0, end <= bytes.count else { break }
      starts.append(offset)
      offset = end
    }
    return (starts, offset)
  }

  private static func littleEndian32(_ bytes: [UInt8], at offset: Int) -> Int {
    (0..<4).reduce(0) { $0 | Int(bytes[offset + $1]) << (8 * $1) }
  }

  /// Flips one bit of one byte inside a record's payload of `path` (never the header), chosen
  /// by `random`; returns the offset.
  static func flipByte(in path: String, random: inout SimulationRandom) throws -> Int {
    var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    let starts = records(bytes).starts
    guard !starts.isEmpty else { throw FaultTestFailure("\(path) holds no record to damage") }
    let start = random.element(of: starts)
    let length = littleEndian32(bytes, at: start)
    let offset = start + 8 + random.integer(in: 0...max(length - 1, 0))
    bytes[offset] ^= 0x10
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    return offset
  }

  /// Appends the first bytes of one more record to `path`, as a crash in the middle of a
  /// write leaves them: a copy of the last record cut short (its length says more bytes than
  /// follow). Returns how many bytes were appended.
  static func appendTornRecord(to path: String, random: inout SimulationRandom) throws -> Int {
    let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    let (starts, end) = records(bytes)
    guard let last = starts.last else { throw FaultTestFailure("\(path) holds no record to copy") }
    let torn = Array(bytes[last..<last + random.integer(in: 1...(end - last - 1))])
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    defer { try? handle.close() }
    try handle.seek(toOffset: UInt64(end))
    try handle.write(contentsOf: torn)
    try handle.truncate(atOffset: UInt64(end + torn.count))
    return torn.count
  }
}
