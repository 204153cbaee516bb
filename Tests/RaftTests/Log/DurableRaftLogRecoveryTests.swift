import Foundation
import RaftCore
import O3TestSupport
import Testing

@testable import Raft

/// What opening a log does with what a crash or a damaged disk leaves behind: a torn tail of
/// the open segment is cut off and reported; anything else refuses to start, naming the file
/// and the offset.
@Suite("DurableRaftLog recovery", .watchdog, .ownThreads)
struct DurableRaftLogRecoveryTests {
  /// 20-byte header, three 45-byte records: entries 1...8 lie in `log_1-3`, `log_4-6` and
  /// `log_inprogress_7` (records 7 at 20..<65, 8 at 65..<110).
  private static let segmentSizeBytes = 20 + 3 * 45
  private static let recordBytes = 45

  /// Writes entries 1...8 (term 1) to `directory` and closes the log.
  private func writeStandardLog(_ directory: String) throws {
    let log = try DurableRaftLog.open(
      directory: directory, segmentSizeBytes: Self.segmentSizeBytes, logger: silentLogTestLogger)
    try log.append(logTestEntries(from: 1, count: 8))
    try log.sync()
    #expect(try logTestSegmentNames(directory) == ["log_1-3", "log_4-6", "log_inprogress_7"])
  }

  private func open(_ directory: String, _ messages: LogTestMessages) throws -> DurableRaftLog {
    try DurableRaftLog.open(
      directory: directory, segmentSizeBytes: Self.segmentSizeBytes, logger: messages.logger)
  }

  @Test("a crash at every byte offset of the last records reopens to a consistent prefix")
  func tornTailAtEveryOffset() throws {
    try withLogTestDirectory { directory in
      try writeStandardLog(directory)
      for cut in 0...110 {
        let copy = try logTestCopy(directory, suffix: "cut\(cut)")
        defer { try? FileManager.default.removeItem(atPath: copy) }
        let segment = copy + "/log_inprogress_7"
        let bytes = try logTestRead(segment)
        try logTestWrite(Array(bytes[..<cut]), to: segment)
        let complete = cut < 20 ? 0 : (cut - 20) / Self.recordBytes
        let validEnd = 20 + complete * Self.recordBytes
        let messages = LogTestMessages()
        do {
          let log = try open(copy, messages)
          #expect(log.lastIndex == 6 + UInt64(complete), "cut at \(cut)")
          #expect(try log.entries(in: 1..<log.lastIndex + 1, payloadBytesMax: .max) == logTestEntries(from: 1, count: 6 + complete))
          if cut >= 20 {
            #expect(log.statistics.tornBytesRemovedOnOpen == cut - validEnd, "cut at \(cut)")
            #expect(try logTestRead(segment).count == validEnd, "the torn bytes are gone from the file")
          }
          if cut != validEnd {
            #expect(
              messages.warnings.contains { $0.contains(segment) && ($0.contains("offset=\(validEnd)") || cut < 20) },
              "cut at \(cut): the repair is reported with file and offset: \(messages.warnings)")
          } else {
            #expect(messages.warnings.isEmpty, "cut at \(cut): nothing to repair")
          }
          try log.append(logTestEntries(from: log.lastIndex + 1, count: 1, term: 2))
          try log.sync()
        }
        let reopened = try open(copy, messages)
        #expect(reopened.lastIndex == 7 + UInt64(complete), "cut at \(cut)")
        #expect(try reopened.term(at: reopened.lastIndex) == 2)
      }
    }
  }

  @Test("zeros where the last record should be (an extended, unwritten block) are a torn tail")
  func zeroFilledTail() throws {
    try withLogTestDirectory { directory in
      try writeStandardLog(directory)
      let cases: [(String, ([UInt8]) -> [UInt8], UInt64)] = [
        ("whole last record zeroed", { Array($0[..<65]) + [UInt8](repeating: 0, count: 45) }, 7),
        ("zeros appended after the last record", { $0 + [UInt8](repeating: 0, count: 300) }, 8),
      ]
      for (name, damage, lastIndex) in cases {
        let copy = try logTestCopy(directory, suffix: "zeros")
        defer { try? FileManager.default.removeItem(atPath: copy) }
        let segment = copy + "/log_inprogress_7"
        try logTestWrite(damage(try logTestRead(segment)), to: segment)
        let messages = LogTestMessages()
        let log = try open(copy, messages)
        #expect(log.lastIndex == lastIndex, "\(name)")
        #expect(messages.warnings.count == 1, "\(name)")
      }
    }
  }

  @Test("a last record whose second sector was never written (zeros from the boundary) is torn")
  func zeroFilledSector() throws {
    try withLogTestDirectory { directory in
      try writeStandardLog(directory)
      do {
        let log = try open(directory, LogTestMessages())
        try log.append(logTestEntries(from: 9, count: 1, dataBytes: 600))
        try log.sync()
      }
      let segment = directory + "/log_inprogress_9"
      var bytes = try logTestRead(segment)
      #expect(bytes.count == 20 + 629, "one record crossing the 512-byte boundary")
      for position in 512..<bytes.count { bytes[position] = 0 }
      try logTestWrite(bytes, to: segment)
      let messages = LogTestMessages()
      let log = try open(directory, messages)
      #expect(log.lastIndex == 8)
      #expect(messages.warnings.contains { $0.contains("zero") && $0.contains(segment) })
    }
  }

  @Test("a flipped byte anywhere in a closed segment refuses to open, naming file and record offset")
  func flippedByteInClosedSegment() throws {
    try withLogTestDirectory { directory in
      try writeStandardLog(directory)
      for position in 0..<Self.segmentSizeBytes {
        let error = try openWithFlippedByte(directory, "log_4-6", at: position)
        #expect(error?.code == .corruptRecord, "byte \(position)")
        #expect(error?.file?.hasSuffix("/log_4-6") == true, "byte \(position)")
        #expect(error?.offset == recordStart(of: position), "byte \(position)")
      }
    }
  }

  @Test("a flipped byte in the open segment refuses to open, whether in the tail record or before it")
  func flippedByteInOpenSegment() throws {
    try withLogTestDirectory { directory in
      try writeStandardLog(directory)
      for position in 0..<110 {
        let error = try openWithFlippedByte(directory, "log_inprogress_7", at: position)
        #expect(error?.code == .corruptRecord, "byte \(position)")
        #expect(error?.file?.hasSuffix("/log_inprogress_7") == true, "byte \(position)")
        #expect(error?.offset == recordStart(of: position), "byte \(position)")
      }
    }
  }

  @Test("a missing segment is a gap and refuses to open, naming the segment after it")
  func gap() throws {
    try withLogTestDirectory { directory in
      try writeStandardLog(directory)
      for (missing, reported) in [("log_4-6", "log_inprogress_7"), ("log_1-3", "log_4-6")] {
        let copy = try logTestCopy(directory, suffix: "gap")
        defer { try? FileManager.default.removeItem(atPath: copy) }
        try FileManager.default.removeItem(atPath: copy + "/" + missing)
        let error = logTestOpenError(copy, segmentSizeBytes: Self.segmentSizeBytes)
        #expect(error?.code == .discontinuity)
        #expect(error?.file == copy + "/" + reported)
        #expect(error?.offset == 0)
        #expect(error?.message.contains("gap") == true)
      }
    }
  }

  @Test("records with valid checksums in the wrong order refuse to open")
  func recordsOutOfOrder() throws {
    try withLogTestDirectory { directory in
      try writeStandardLog(directory)
      let segment = directory + "/log_4-6"
      let bytes = try logTestRead(segment)
      try logTestWrite(Array(bytes[..<20] + bytes[65..<110] + bytes[20..<65] + bytes[110...]), to: segment)
      let error = logTestOpenError(directory, segmentSizeBytes: Self.segmentSizeBytes)
      #expect(error?.code == .discontinuity)
      #expect(error?.file == segment)
      #expect(error?.offset == 20)
    }
  }

  @Test("a segment holding an index twice is an overlap")
  func overlap() throws {
    try withLogTestDirectory { directory in
      try writeStandardLog(directory)
      try FileManager.default.copyItem(atPath: directory + "/log_4-6", toPath: directory + "/log_5-7")
      let error = logTestOpenError(directory, segmentSizeBytes: Self.segmentSizeBytes)
      #expect(error?.code == .discontinuity)
      #expect(error?.message.contains("overlap") == true)
    }
  }

  @Test("segments a crash left behind in a purge are deleted on open")
  func interruptedPurge() throws {
    try withLogTestDirectory { directory in
      try writeStandardLog(directory)
      let saved = try logTestCopy(directory, suffix: "saved")
      defer { try? FileManager.default.removeItem(atPath: saved) }
      do {
        let log = try open(directory, LogTestMessages())
        try log.purge(through: 6)
      }
      for name in ["log_1-3", "log_4-6"] {
        try FileManager.default.copyItem(atPath: saved + "/" + name, toPath: directory + "/" + name)
      }
      let messages = LogTestMessages()
      let log = try open(directory, messages)
      #expect(log.firstIndex == 7)
      #expect(try logTestSegmentNames(directory) == ["log_inprogress_7"])
      #expect(messages.warnings.filter { $0.contains("purged") }.count == 2)
    }
  }

  @Test("segments a crash left behind in a snapshot install are deleted on open")
  func interruptedInstall() throws {
    try withLogTestDirectory { directory in
      try writeStandardLog(directory)
      let saved = try logTestCopy(directory, suffix: "saved")
      defer { try? FileManager.default.removeItem(atPath: saved) }
      let metadata = SnapshotMetadata(last: TermIndex(term: 1, index: 5), membership: Membership(voters: [1]))
      do {
        let log = try open(directory, LogTestMessages())
        try log.installSnapshot(metadata)
      }
      for name in ["log_1-3", "log_4-6", "log_inprogress_7"] {
        try FileManager.default.copyItem(atPath: saved + "/" + name, toPath: directory + "/" + name)
      }
      let log = try open(directory, LogTestMessages())
      #expect(log.snapshot == metadata)
      #expect(log.lastIndex == 5)
      #expect(try logTestSegmentNames(directory).isEmpty)
      try log.append(logTestEntries(from: 6, count: 1, term: 2))
      #expect(try log.term(at: 6) == 2)
    }
  }

  @Test("an open segment that is not the last (its rename was lost) is closed on open")
  func lostRename() throws {
    try withLogTestDirectory { directory in
      try writeStandardLog(directory)
      try FileManager.default.moveItem(atPath: directory + "/log_4-6", toPath: directory + "/log_inprogress_4")
      let log = try open(directory, LogTestMessages())
      #expect(try logTestSegmentNames(directory) == ["log_1-3", "log_4-6", "log_inprogress_7"])
      #expect(try log.entries(in: 1..<9, payloadBytesMax: .max) == logTestEntries(from: 1, count: 8))
    }
  }

  @Test("a persisted commit index past the log's end refuses to open")
  func commitBeyondLog() throws {
    try withLogTestDirectory { directory in
      do {
        let log = try open(directory, LogTestMessages())
        try log.append(logTestEntries(from: 1, count: 8))
        log.setHardState(HardState(term: 1, vote: nil, commit: 8))
        try log.sync()
      }
      try FileManager.default.removeItem(atPath: directory + "/log_inprogress_7")
      let error = logTestOpenError(directory, segmentSizeBytes: Self.segmentSizeBytes)
      #expect(error?.code == .inconsistentState)
      #expect(error?.file == directory + "/raft-hard-state")
    }
  }

  @Test("a damaged hard-state or compaction-point file refuses to open")
  func damagedMetadata() throws {
    try withLogTestDirectory { directory in
      do {
        let log = try open(directory, LogTestMessages())
        try log.append(logTestEntries(from: 1, count: 8))
        log.setHardState(HardState(term: 1, vote: PeerID(1), commit: 3))
        try log.sync()
        try log.purge(through: 3)
      }
      for name in ["raft-hard-state", "raft-compaction-point"] {
        let copy = try logTestCopy(directory, suffix: "meta")
        defer { try? FileManager.default.removeItem(atPath: copy) }
        var bytes = try logTestRead(copy + "/" + name)
        bytes[12] ^= 0x01
        try logTestWrite(bytes, to: copy + "/" + name)
        let error = logTestOpenError(copy, segmentSizeBytes: Self.segmentSizeBytes)
        #expect(error?.code == .corruptMetadata, "\(name)")
        #expect(error?.file == copy + "/" + name)
      }
    }
  }

  private func openWithFlippedByte(_ directory: String, _ name: String, at position: Int) throws -> RaftLogError? {
    let copy = try logTestCopy(directory, suffix: "flip")
    defer { try? FileManager.default.removeItem(atPath: copy) }
    var bytes = try logTestRead(copy + "/" + name)
    bytes[position] ^= 0xFF
    try logTestWrite(bytes, to: copy + "/" + name)
    return logTestOpenError(copy, segmentSizeBytes: Self.segmentSizeBytes)
  }

  /// The offset of the record (or header, 0) holding byte `position` of a standard segment.
  private func recordStart(of position: Int) -> Int {
    position < 20 ? 0 : 20 + (position - 20) / Self.recordBytes * Self.recordBytes
  }
}
