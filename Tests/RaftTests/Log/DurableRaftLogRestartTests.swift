import Foundation
import RaftCore
import O3TestSupport
import Testing

@testable import Raft

/// Segments, restarts, truncation, purge and snapshot install on real files.
@Suite("DurableRaftLog on disk", .watchdog, .ownThreads)
struct DurableRaftLogRestartTests {
  /// Each record of `logTestEntries(dataBytes: 16)` takes 45 bytes: 20-byte header + 3 records.
  private let threeRecordSegment = 20 + 3 * 45

  @Test("a new log is empty: first index 1, last index 0, hard state zero")
  func newLog() throws {
    try withLogTestDirectory { directory in
      let log = try DurableRaftLog.open(directory: directory + "/nested/raft", logger: silentLogTestLogger)
      #expect(log.firstIndex == 1)
      #expect(log.lastIndex == 0)
      #expect(log.hardState == HardState())
      #expect(log.snapshot == SnapshotMetadata(last: .zero, membership: .empty))
      #expect(try log.term(at: 0) == 0)
      #expect(try log.entries(in: 1..<1, payloadBytesMax: .max).isEmpty)
    }
  }

  @Test("segments roll at the size limit and reads cross segment boundaries")
  func rolling() throws {
    try withLogTestDirectory { directory in
      let log = try DurableRaftLog.open(
        directory: directory, segmentSizeBytes: threeRecordSegment, logger: silentLogTestLogger)
      let entries = logTestEntries(from: 1, count: 10)
      try log.append(Array(entries[0..<4]))
      try log.append(Array(entries[4...]))
      try log.sync()
      #expect(
        try logTestSegmentNames(directory) == ["log_1-3", "log_4-6", "log_7-9", "log_inprogress_10"])
      #expect(try log.entries(in: 1..<11, payloadBytesMax: .max) == entries)
      #expect(try log.entries(in: 2..<9, payloadBytesMax: 40) == Array(entries[1..<3]))
      #expect(try log.term(at: 7) == 1)
      #expect(log.durableLastIndex == 10)
    }
  }

  @Test("a restart keeps entries, hard state and snapshot metadata; reads then come from files")
  func restart() throws {
    try withLogTestDirectory { directory in
      let entries = logTestEntries(from: 1, count: 10, term: 2)
      let hardState = HardState(term: 3, vote: PeerID(2), commit: 9)
      do {
        let log = try DurableRaftLog.open(
          directory: directory, segmentSizeBytes: threeRecordSegment, logger: silentLogTestLogger)
        try log.append(entries)
        log.setHardState(hardState)
        try log.sync()
        #expect(try log.entries(in: 8..<11, payloadBytesMax: .max) == Array(entries[7...]))
        #expect(log.statistics.entriesReadFromFiles == 0, "the tail is served from memory")
        #expect(log.statistics.hardStateWrites == 1)
      }
      let reopened = try DurableRaftLog.open(
        directory: directory, segmentSizeBytes: threeRecordSegment, logger: silentLogTestLogger)
      #expect(reopened.lastIndex == 10)
      #expect(reopened.hardState == hardState)
      #expect(try reopened.entries(in: 1..<11, payloadBytesMax: .max) == entries)
      #expect(reopened.statistics.entriesReadFromFiles == 10)
    }
  }

  @Test("the hard state is written by sync, after the entries it commits")
  func hardStateWaitsForSync() throws {
    try withLogTestDirectory { directory in
      do {
        let log = try DurableRaftLog.open(directory: directory, logger: silentLogTestLogger)
        try log.append(logTestEntries(from: 1, count: 2))
        log.setHardState(HardState(term: 1, vote: nil, commit: 2))
        #expect(log.hardState.commit == 2, "readers see it at once")
        #expect(!FileManager.default.fileExists(atPath: directory + "/raft-hard-state"))
      }
      let reopened = try DurableRaftLog.open(directory: directory, logger: silentLogTestLogger)
      #expect(reopened.hardState == HardState(), "never synced, never durable")
    }
  }

  @Test("a new term or vote is fully durable (file and directory fsync); a commit-only change costs no fsync")
  func hardStateFsyncs() throws {
    try withLogTestDirectory { directory in
      do {
        let log = try DurableRaftLog.open(directory: directory, logger: silentLogTestLogger)
        try log.append(logTestEntries(from: 1, count: 3))
        try log.sync()
        var fsyncs = log.statistics.fsyncCalls
        log.setHardState(HardState(term: 1, vote: PeerID(2), commit: 0))
        try log.sync()
        #expect(log.statistics.fsyncCalls == fsyncs + 2, "temp file and directory")
        fsyncs = log.statistics.fsyncCalls
        log.setHardState(HardState(term: 1, vote: PeerID(2), commit: 3))
        try log.sync()
        #expect(log.statistics.fsyncCalls == fsyncs, "the commit index alone is not written")
        #expect(log.hardState.commit == 3, "readers still see it")
        #expect(log.statistics.hardStateWrites == 1)
      }
      let reopened = try DurableRaftLog.open(directory: directory, logger: silentLogTestLogger)
      #expect(reopened.hardState == HardState(term: 1, vote: PeerID(2), commit: 0), "term and vote survive; commit is relearned")
    }
  }

  @Test("truncating a conflicting suffix across a segment boundary survives a restart")
  func truncationAcrossSegments() throws {
    try withLogTestDirectory { directory in
      let replacement = logTestEntries(from: 5, count: 2, term: 2, dataBytes: 30)
      do {
        let log = try DurableRaftLog.open(
          directory: directory, segmentSizeBytes: threeRecordSegment, logger: silentLogTestLogger)
        try log.append(logTestEntries(from: 1, count: 10))
        try log.sync()
        try log.append(replacement)
        #expect(log.lastIndex == 6)
        #expect(log.durableLastIndex == 4, "the truncation lowered what is durable")
        try log.sync()
        // Segment 4 reopened (entry 4 kept), took entry 5 and rolled before entry 6.
        #expect(try logTestSegmentNames(directory) == ["log_1-3", "log_4-5", "log_inprogress_6"])
      }
      let reopened = try DurableRaftLog.open(
        directory: directory, segmentSizeBytes: threeRecordSegment, logger: silentLogTestLogger)
      #expect(reopened.lastIndex == 6)
      #expect(try reopened.entries(in: 1..<7, payloadBytesMax: .max) == logTestEntries(from: 1, count: 4) + replacement)
      try reopened.append(logTestEntries(from: 7, count: 1, term: 2))
      #expect(try reopened.term(at: 7) == 2)
    }
  }

  @Test("truncating at the first entry of a closed segment removes the segment")
  func truncationAtSegmentStart() throws {
    try withLogTestDirectory { directory in
      let log = try DurableRaftLog.open(
        directory: directory, segmentSizeBytes: threeRecordSegment, logger: silentLogTestLogger)
      try log.append(logTestEntries(from: 1, count: 8))
      try log.append(logTestEntries(from: 4, count: 1, term: 3))
      try log.sync()
      #expect(try logTestSegmentNames(directory) == ["log_1-3", "log_inprogress_4"])
      #expect(try log.entries(in: 3..<5, payloadBytesMax: .max).map(\.term) == [1, 3])
    }
  }

  @Test("purge deletes only whole closed segments, folds membership, and survives a restart")
  func purge() throws {
    try withLogTestDirectory { directory in
      let bootstrap = BootstrapLog(membership: Membership(voters: [1, 2, 3])).entries
      let change = LogEntry(
        term: 1, index: 5, kind: .membershipChange, data: MembershipChange(.addLearner, peer: 4).encoded())
      do {
        let log = try DurableRaftLog.open(
          directory: directory, segmentSizeBytes: 20 + 3 * 45, logger: silentLogTestLogger)
        try log.append(bootstrap + [LogEntry(term: 1, index: 4, data: Array(repeating: 9, count: 16)), change])
        try log.append(logTestEntries(from: 6, count: 5))
        try log.sync()
        try log.purge(through: 2)
        #expect(log.firstIndex == 1, "no segment lies wholly at or below 2")
        try log.purge(through: 8)
        #expect(log.snapshot.last == TermIndex(term: 1, index: 6))
        #expect(log.snapshot.membership == Membership(voters: [1, 2, 3], learners: [4]))
        #expect(try logTestSegmentNames(directory).first == "log_7-9")
        #expect(throws: RaftStorageError.self) { try log.entries(in: 6..<8, payloadBytesMax: .max) }
        #expect(try log.term(at: 6) == 1, "the compaction point's term is known")
      }
      let reopened = try DurableRaftLog.open(
        directory: directory, segmentSizeBytes: 20 + 3 * 45, logger: silentLogTestLogger)
      #expect(reopened.firstIndex == 7)
      #expect(reopened.snapshot.membership == Membership(voters: [1, 2, 3], learners: [4]))
      #expect(try reopened.entries(in: 7..<11, payloadBytesMax: .max) == logTestEntries(from: 7, count: 4))
    }
  }

  @Test("installSnapshot discards the log, survives a restart, and appends continue after it")
  func installSnapshot() throws {
    try withLogTestDirectory { directory in
      let metadata = SnapshotMetadata(
        last: TermIndex(term: 4, index: 50), membership: Membership(voters: [1, 2], learners: [7]))
      do {
        let log = try DurableRaftLog.open(
          directory: directory, segmentSizeBytes: threeRecordSegment, logger: silentLogTestLogger)
        try log.append(logTestEntries(from: 1, count: 8))
        try log.sync()
        try log.installSnapshot(metadata)
        #expect(log.firstIndex == 51)
        #expect(log.lastIndex == 50)
        #expect(try logTestSegmentNames(directory).isEmpty)
        try log.append(logTestEntries(from: 51, count: 2, term: 4))
        log.setHardState(HardState(term: 4, vote: nil, commit: 51))
        try log.sync()
      }
      let reopened = try DurableRaftLog.open(
        directory: directory, segmentSizeBytes: threeRecordSegment, logger: silentLogTestLogger)
      #expect(reopened.snapshot == metadata)
      #expect(try reopened.term(at: 50) == 4)
      #expect(try reopened.entries(in: 51..<53, payloadBytesMax: .max) == logTestEntries(from: 51, count: 2, term: 4))
    }
  }

  @Test("a second instance cannot open a log that is open")
  func exclusive() throws {
    try withLogTestDirectory { directory in
      let log = try DurableRaftLog.open(directory: directory, logger: silentLogTestLogger)
      #expect(logTestOpenError(directory)?.code == .directoryInUse)
      #expect(log.lastIndex == 0)
    }
  }

  @Test("an entry larger than entryDataBytesMax is refused before anything is written")
  func entryTooLarge() throws {
    try withLogTestDirectory { directory in
      let log = try DurableRaftLog.open(directory: directory, logger: silentLogTestLogger)
      let huge = LogEntry(term: 1, index: 1, data: [UInt8](repeating: 0, count: DurableRaftLog.entryDataBytesMax + 1))
      do throws(RaftLogError) {
        try log.append([huge])
        Issue.record("append accepted an oversized entry")
      } catch {
        #expect(error.code == .entryTooLarge)
      }
      #expect(log.lastIndex == 0)
      #expect(log.statistics.bytesWritten == 0)
    }
  }
}
