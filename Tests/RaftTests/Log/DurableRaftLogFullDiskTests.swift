import Foundation
import RaftCore
import O3TestSupport
import Testing

@testable import Raft

/// A full disk under the log (injected ENOSPC/EDQUOT in its writes): a failed append or hard-state
/// write leaves the files and the readers' view exactly as before the call, so the call can be
/// repeated, and a reopen at any point finds a clean log.
@Suite("DurableRaftLog on a full disk", .watchdog, .ownThreads)
struct DurableRaftLogFullDiskTests {
  /// Each record of `logTestEntries(dataBytes: 16)` takes 45 bytes: 20-byte header + 3 records.
  private let threeRecordSegment = 20 + 3 * 45

  /// Appending entries 3...9 to a log holding 1...2 in three-record segments takes five writes:
  /// record 3 into the open segment, then per new segment a header and its records.
  private static let writesOfTheAppend = 5

  @Test(
    "an append failing at any write, with any partial bytes, is undone and then succeeds on retry",
    arguments: 0..<writesOfTheAppend, [0, 7, 60])
  func failedAppendIsUndone(failingWrite: Int, partialBytes: Int) throws {
    try withLogTestDirectory { directory in
      let log = try DurableRaftLog.open(
        directory: directory, segmentSizeBytes: threeRecordSegment, logger: silentLogTestLogger)
      let entries = logTestEntries(from: 1, count: 9)
      try log.append(Array(entries[0..<2]))
      try log.sync()
      let sizeBefore = try fileSize(directory + "/log_inprogress_1")
      log.writeFaults.failWrites(writesBeforeFailure: failingWrite, bytesBeforeFailure: partialBytes, times: 1)
      let error = #expect(throws: RaftLogError.self) { try log.append(Array(entries[2...])) }
      #expect(error?.code == .noSpace)
      #expect(error?.message.contains("No space left on device") == true, "\(String(describing: error))")
      #expect(try logTestSegmentNames(directory) == ["log_inprogress_1"], "segments of the failed call are gone")
      #expect(try fileSize(directory + "/log_inprogress_1") == sizeBefore, "the open segment is cut back")
      #expect(log.lastIndex == 2)
      #expect(try log.entries(in: 1..<3, payloadBytesMax: .max) == Array(entries[0..<2]))
      #expect(log.statistics.appendsRolledBack == 1)

      let crashed = try logTestCopy(directory, suffix: "crash")
      defer { try? FileManager.default.removeItem(atPath: crashed) }
      let recovered = try DurableRaftLog.open(
        directory: crashed, segmentSizeBytes: threeRecordSegment, logger: silentLogTestLogger)
      #expect(recovered.lastIndex == 2, "recovery reads exactly the entries appended before")
      #expect(try recovered.entries(in: 1..<3, payloadBytesMax: .max) == Array(entries[0..<2]))
      #expect(recovered.statistics.tornBytesRemovedOnOpen == 0, "no garbage after the last record")
      recovered.close()

      try log.append(Array(entries[2...]))
      try log.sync()
      log.close()
      let reopened = try DurableRaftLog.open(
        directory: directory, segmentSizeBytes: threeRecordSegment, logger: silentLogTestLogger)
      #expect(try reopened.entries(in: 1..<10, payloadBytesMax: .max) == entries)
      #expect(try logTestSegmentNames(directory) == ["log_1-3", "log_4-6", "log_inprogress_7"])
      #expect(reopened.statistics.tornBytesRemovedOnOpen == 0)
    }
  }

  @Test("an append that replaces a conflicting suffix and then fails keeps the cut; the retry completes")
  func failedAppendAfterTruncation() throws {
    try withLogTestDirectory { directory in
      let log = try DurableRaftLog.open(
        directory: directory, segmentSizeBytes: threeRecordSegment, logger: silentLogTestLogger)
      let original = logTestEntries(from: 1, count: 5, term: 1)
      try log.append(original)
      try log.sync()
      let replacement = logTestEntries(from: 3, count: 4, term: 2)
      log.writeFaults.failWrites(bytesBeforeFailure: 20, times: 1)
      let error = #expect(throws: RaftLogError.self) { try log.append(replacement) }
      #expect(error?.code == .noSpace)
      #expect(log.lastIndex == 2, "the conflicting suffix is gone, none of the new entries is there")
      #expect(try logTestSegmentNames(directory) == ["log_inprogress_1"])
      try log.append(replacement)
      try log.sync()
      log.close()
      let reopened = try DurableRaftLog.open(
        directory: directory, segmentSizeBytes: threeRecordSegment, logger: silentLogTestLogger)
      #expect(try reopened.entries(in: 1..<7, payloadBytesMax: .max) == Array(original[0..<2]) + replacement)
    }
  }

  @Test("the first append to an empty log failing leaves no segment file")
  func failedFirstAppendLeavesNoSegment() throws {
    try withLogTestDirectory { directory in
      let log = try DurableRaftLog.open(directory: directory, logger: silentLogTestLogger)
      let entries = logTestEntries(from: 1, count: 4)
      for failingWrite in 0..<2 {
        log.writeFaults.failWrites(writesBeforeFailure: failingWrite, bytesBeforeFailure: 9, times: 1)
        #expect(throws: RaftLogError.self) { try log.append(entries) }
        #expect(try logTestSegmentNames(directory).isEmpty, "write \(failingWrite)")
        #expect(log.lastIndex == 0)
      }
      try log.append(entries)
      try log.sync()
      #expect(try log.entries(in: 1..<5, payloadBytesMax: .max) == entries)
    }
  }

  @Test("a quota error is retryable like a full disk; any other write error is not")
  func errorCodes() throws {
    try withLogTestDirectory { directory in
      let log = try DurableRaftLog.open(directory: directory, logger: silentLogTestLogger)
      let entries = logTestEntries(from: 1, count: 2)
      log.writeFaults.failWrites(errorNumber: EDQUOT, times: 1)
      let quota = #expect(throws: RaftLogError.self) { try log.append(entries) }
      #expect(quota?.code == .noSpace)
      log.writeFaults.failWrites(errorNumber: EIO, times: 1)
      let failure = #expect(throws: RaftLogError.self) { try log.append(entries) }
      #expect(failure?.code == .ioFailure)
      #expect(log.writeFaults.failuresInjected == 2)
      #expect(log.lastIndex == 0, "every failed append was undone")
    }
  }

  @Test("a hard-state write on a full disk keeps the old file, leaves no temp file, and the next sync writes it")
  func failedHardStateWrite() throws {
    try withLogTestDirectory { directory in
      let log = try DurableRaftLog.open(directory: directory, logger: silentLogTestLogger)
      try log.append(logTestEntries(from: 1, count: 3, term: 2))
      log.setHardState(HardState(term: 2, vote: PeerID(1), commit: 1))
      try log.sync()
      let before = try logTestRead(directory + "/" + MetadataFiles.hardStateName)
      log.setHardState(HardState(term: 3, vote: PeerID(2), commit: 2))
      log.writeFaults.failWrites(bytesBeforeFailure: 10, times: 1)
      let error = #expect(throws: RaftLogError.self) { try log.sync() }
      #expect(error?.code == .noSpace)
      #expect(try logTestRead(directory + "/" + MetadataFiles.hardStateName) == before, "the old file is intact")
      let names = try FileManager.default.contentsOfDirectory(atPath: directory)
      #expect(!names.contains { $0.hasSuffix(LogFile.temporarySuffix) }, "no temp file left: \(names)")

      let crashed = try logTestCopy(directory, suffix: "crash")
      defer { try? FileManager.default.removeItem(atPath: crashed) }
      let recovered = try DurableRaftLog.open(directory: crashed, logger: silentLogTestLogger)
      #expect(recovered.hardState == HardState(term: 2, vote: PeerID(1), commit: 1))
      recovered.close()

      try log.sync()
      log.close()
      let reopened = try DurableRaftLog.open(directory: directory, logger: silentLogTestLogger)
      #expect(reopened.hardState == HardState(term: 3, vote: PeerID(2), commit: 2))
    }
  }

  @Test("a failed write of the compaction point leaves the log as it was")
  func failedSnapshotInstall() throws {
    try withLogTestDirectory { directory in
      let log = try DurableRaftLog.open(directory: directory, logger: silentLogTestLogger)
      let entries = logTestEntries(from: 1, count: 5)
      try log.append(entries)
      try log.sync()
      let snapshot = SnapshotMetadata(last: TermIndex(term: 1, index: 8), membership: Membership(voters: [PeerID(1)], learners: []))
      log.writeFaults.failWrites(times: 1)
      let error = #expect(throws: RaftLogError.self) { try log.installSnapshot(snapshot) }
      #expect(error?.code == .noSpace)
      #expect(try log.entries(in: 1..<6, payloadBytesMax: .max) == entries)
      #expect(try logTestSegmentNames(directory) == ["log_inprogress_1"])
      try log.installSnapshot(snapshot)
      #expect(log.firstIndex == 9)
    }
  }

  private func fileSize(_ path: String) throws -> Int {
    let attributes = try FileManager.default.attributesOfItem(atPath: path)
    return (attributes[.size] as? NSNumber)?.intValue ?? -1
  }
}
