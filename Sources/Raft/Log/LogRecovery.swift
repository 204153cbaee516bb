import Foundation
import Logging
import RaftCore

/// What ``LogRecovery`` found on disk: the state a ``DurableRaftLog`` opens with.
struct RecoveredLog: Sendable {
  var hardState: HardState
  var compaction: CompactionPoint
  var segments: [LogSegment]
  var tornBytesRemoved: Int
}

/// Opens a log directory: reads the metadata files, verifies every record of every segment,
/// repairs what a crash can leave behind, and refuses anything else.
///
/// Repaired (each logged): a torn record at the tail of the last open segment (the file is cut
/// before it); an open segment whose header never reached the disk; segments a crash left
/// behind during a purge or a snapshot install; an open segment that is not the last (its
/// rename to closed was lost); temp files of a metadata replacement. Refused with an error
/// naming file and offset: any other checksum or framing failure, a gap or overlap between
/// segments, an index out of order or a term going backwards inside one.
struct LogRecovery {
  let directory: String
  let logger: Logger

  /// Reads and repairs the directory, which ``prepareDirectory()`` has created if needed.
  func run() throws(RaftLogError) -> RecoveredLog {
    let names = try fileNames()
    for name in names where name.hasSuffix(LogFile.temporarySuffix) {
      logger.info("removing leftover temp file", metadata: ["file": "\(path(name))"])
      try LogFile.remove(path(name))
    }
    var hardState = try readMetadata(MetadataFiles.hardStateName) { bytes, file throws(RaftLogError) in
      try MetadataFiles.decodeHardState(bytes, file: file)
    } ?? HardState()
    let compaction = try readMetadata(MetadataFiles.compactionPointName) { bytes, file throws(RaftLogError) in
      try MetadataFiles.decodeCompactionPoint(bytes, file: file)
    } ?? .initial
    var directoryChanged = false
    let live = try openLiveSegments(segmentNames(names), compaction, &directoryChanged)
    var tornBytesRemoved = 0
    let segments = try scan(live, compaction, &directoryChanged, &tornBytesRemoved)
    let lastIndex = segments.last?.lastIndex ?? compaction.snapshot.last.index
    do throws(RaftLogError) {
      if directoryChanged { try LogFile.syncDirectory(directory) }
      guard hardState.commit <= lastIndex else {
        throw RaftLogError(
          .inconsistentState,
          "persisted commit index \(hardState.commit) is past the last entry \(lastIndex) on disk",
          file: path(MetadataFiles.hardStateName))
      }
    } catch {
      segments.forEach { $0.file.close() }
      throw error
    }
    if hardState.commit < compaction.snapshot.last.index {
      // A crash between the compaction point and the next hard state: the compaction point only
      // covers committed entries, so the commit index is at least that.
      logger.info("raising the commit index to the compaction point")
      hardState.commit = compaction.snapshot.last.index
    }
    return RecoveredLog(
      hardState: hardState, compaction: compaction, segments: segments,
      tornBytesRemoved: tornBytesRemoved)
  }

  private func path(_ name: String) -> String { directory + "/" + name }

  func prepareDirectory() throws(RaftLogError) {
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) {
      guard isDirectory.boolValue else {
        throw RaftLogError(.ioFailure, "the log directory is a file", file: directory)
      }
      return
    }
    do {
      try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    } catch {
      throw RaftLogError(.ioFailure, "cannot create the log directory: \(error)", file: directory)
    }
    try LogFile.syncDirectory(URL(fileURLWithPath: directory).deletingLastPathComponent().path)
  }

  private func fileNames() throws(RaftLogError) -> [String] {
    do {
      return try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
    } catch {
      throw RaftLogError(.ioFailure, "cannot list the log directory: \(error)", file: directory)
    }
  }

  private func readMetadata<Value>(
    _ name: String, decode: ([UInt8], String) throws(RaftLogError) -> Value
  ) throws(RaftLogError) -> Value? {
    guard FileManager.default.fileExists(atPath: path(name)) else { return nil }
    let file = try LogFile.open(path(name))
    defer { file.close() }
    return try decode(try file.readAll(), path(name))
  }

  /// The segment files in index order (ties: as named, so that an overlap is reported).
  private func segmentNames(_ names: [String]) -> [SegmentFileName] {
    var segments: [SegmentFileName] = []
    for name in names where name.hasPrefix(SegmentFileName.closedPrefix) {
      guard let segment = SegmentFileName(parsing: name) else {
        logger.warning("ignoring a file that is not a log segment", metadata: ["file": "\(path(name))"])
        continue
      }
      segments.append(segment)
    }
    return segments.sorted { $0.first < $1.first }
  }

  /// Opens the segments that belong to the log, deleting those a crash left behind: an open
  /// segment without a header, segments of an older generation (a snapshot install) and closed
  /// segments at or below the compaction point (a purge).
  private func openLiveSegments(
    _ names: [SegmentFileName], _ compaction: CompactionPoint, _ directoryChanged: inout Bool
  ) throws(RaftLogError) -> [(SegmentFileName, LogFile)] {
    var live: [(SegmentFileName, LogFile)] = []
    do throws(RaftLogError) {
      for (position, name) in names.enumerated() {
        let file = try LogFile.open(path(name.name))
        let stale: String?
        do throws(RaftLogError) {
          stale = try staleness(
            name, file, compaction, isLastFile: position == names.count - 1)
        } catch {
          file.close()
          throw error
        }
        guard let stale else {
          live.append((name, file))
          continue
        }
        logger.warning("removing segment: \(stale)", metadata: ["file": "\(file.path)"])
        file.close()
        try LogFile.remove(file.path)
        directoryChanged = true
      }
    } catch {
      live.forEach { $0.1.close() }
      throw error
    }
    return live
  }

  /// Why the segment is debris to delete, or nil when it belongs to the log.
  private func staleness(
    _ name: SegmentFileName, _ file: LogFile, _ compaction: CompactionPoint, isLastFile: Bool
  ) throws(RaftLogError) -> String? {
    let header = try file.read(at: 0, count: min(try file.size(), SegmentFormat.headerBytes))
    switch SegmentFormat.parseHeader(header) {
    case .torn:
      guard name.isOpen, isLastFile else {
        throw RaftLogError(.corruptRecord, "segment header is missing", file: file.path, offset: 0)
      }
      return "its header never reached the disk"
    case .corrupt(let reason):
      throw RaftLogError(.corruptRecord, reason, file: file.path, offset: 0)
    case .valid(let generation) where generation > compaction.generation:
      throw RaftLogError(
        .inconsistentState,
        "segment of generation \(generation) is newer than the compaction point's \(compaction.generation)",
        file: file.path, offset: 0)
    case .valid(let generation) where generation < compaction.generation:
      return "it predates the snapshot install"
    case .valid:
      if case .closed(_, let last) = name, last <= compaction.snapshot.last.index {
        return "it was purged"
      }
      return nil
    }
  }

  private func scan(
    _ live: [(SegmentFileName, LogFile)], _ compaction: CompactionPoint,
    _ directoryChanged: inout Bool, _ tornBytesRemoved: inout Int
  ) throws(RaftLogError) -> [LogSegment] {
    var segments: [LogSegment] = []
    var emptyUnclosed: [LogFile] = []
    var nextIndex = compaction.snapshot.last.index + 1
    var previousTerm = compaction.snapshot.last.term
    do throws(RaftLogError) {
      for (position, (name, file)) in live.enumerated() {
        let isTail = position == live.count - 1
        guard name.first == nextIndex else {
          let problem =
            name.first > nextIndex
            ? "gap: entries \(nextIndex)..<\(name.first) are missing"
            : "overlap: index \(name.first) is held twice"
          throw RaftLogError(.discontinuity, problem, file: file.path, offset: 0)
        }
        var segment = try scanRecords(name, file, isTail: isTail, &previousTerm, &tornBytesRemoved)
        if name.isOpen && !isTail {
          // The rename that closed it was lost with a directory update; its records were
          // fsync'd before the next segment existed.
          directoryChanged = true
          if segment.isEmpty {
            emptyUnclosed.append(file)
            continue
          }
          segment.isOpen = false
          logger.warning("closing an open segment that is not the last", metadata: ["file": "\(file.path)"])
          try segment.file.rename(to: path(segment.fileName.name))
        }
        segments.append(segment)
        nextIndex = segment.lastIndex + 1
      }
      for file in emptyUnclosed {
        logger.warning("removing an empty open segment that is not the last", metadata: ["file": "\(file.path)"])
        try LogFile.remove(file.path)
      }
    } catch {
      live.forEach { $0.1.close() }
      throw error
    }
    emptyUnclosed.forEach { $0.close() }
    return segments
  }

  /// Verifies and indexes every record of one segment; cuts a torn tail off the last one.
  private func scanRecords(
    _ name: SegmentFileName, _ file: LogFile, isTail: Bool, _ previousTerm: inout UInt64,
    _ tornBytesRemoved: inout Int
  ) throws(RaftLogError) -> LogSegment {
    let bytes = try file.readAll()
    var segment = LogSegment(file: file, firstIndex: name.first, isOpen: name.isOpen)
    var offset = SegmentFormat.headerBytes
    while offset < bytes.count {
      switch SegmentFormat.parseRecord(bytes, at: offset) {
      case .record(let term, let index, let kind, _, let end):
        guard index == segment.lastIndex + 1 else {
          throw RaftLogError(
            .discontinuity, "record holds index \(index) where \(segment.lastIndex + 1) belongs",
            file: file.path, offset: offset)
        }
        guard term >= previousTerm else {
          throw RaftLogError(
            .discontinuity, "term goes back from \(previousTerm) to \(term) at index \(index)",
            file: file.path, offset: offset)
        }
        segment.appendRecord(index: index, term: term, kind: kind, bytes: end - offset)
        previousTerm = term
        offset = end
      case .torn(let reason):
        guard isTail && name.isOpen else {
          throw RaftLogError(.corruptRecord, "\(reason), not at the tail of the log", file: file.path, offset: offset)
        }
        logger.warning(
          "truncating a torn record at the tail of the log: \(reason)",
          metadata: ["file": "\(file.path)", "offset": "\(offset)", "bytesRemoved": "\(bytes.count - offset)"])
        try file.truncate(to: offset)
        try file.sync()
        tornBytesRemoved += bytes.count - offset
        return segment
      case .corrupt(let reason):
        throw RaftLogError(.corruptRecord, reason, file: file.path, offset: offset)
      }
    }
    if case .closed(let first, let last) = name, segment.lastIndex != last {
      throw RaftLogError(
        .discontinuity, "closed segment holds entries \(first)...\(segment.lastIndex), its name says \(first)...\(last)",
        file: file.path, offset: offset)
    }
    return segment
  }
}
