import RaftCore

/// Where the log stood when an append began writing, so that a failed append can be undone.
struct AppendMark: Sendable {
  /// The last index held.
  let lastIndex: UInt64
  /// Segments held; any beyond these were created by the append.
  let segmentCount: Int
  /// The valid length of the last segment when it was open; nil when it was closed or absent.
  let openEndOffset: Int?
}

extension DurableRaftLog {
  func appendMark() -> AppendMark {
    state.withLock { state in
      let last = state.segments.last
      return AppendMark(
        lastIndex: state.lastIndex, segmentCount: state.segments.count,
        openEndOffset: last.flatMap { $0.isOpen ? $0.endOffset : nil })
    }
  }

  /// Undoes an append whose write failed part way (a full disk): readers stop seeing its entries,
  /// the segments it created are deleted, the segment that was open is renamed open again if the
  /// append closed it and is cut back to its length at `mark`, and all of it is made durable, so
  /// that a retry writes a clean log and a crash at any point reopens as a valid one. A segment
  /// the append closed without adding to it stays closed (a closed last segment is valid).
  ///
  /// Throws ``RaftLogError/Code/ioFailure`` when the files cannot be put back: the log then no
  /// longer matches the state before the call, and the replica must stop.
  func rollBack(to mark: AppendMark, _ writer: inout WriterState) throws(RaftLogError) {
    let segments = state.withLock { $0.segments }
    let created = Array(segments[mark.segmentCount...])
    var previous = mark.segmentCount > 0 ? segments[mark.segmentCount - 1] : nil
    let gainedEntries = previous.map { $0.lastIndex > mark.lastIndex } ?? false
    if gainedEntries { previous!.truncate(from: mark.lastIndex + 1) }
    publish(mark, previous)
    do throws(RaftLogError) {
      try removeFiles(created.reversed())
      var directoryChanged = !created.isEmpty
      if var segment = previous, gainedEntries, !segment.isOpen {
        // The append filled and closed it: its closed name counts the entries just removed.
        segment.isOpen = true
        try segment.file.rename(to: path(segment.fileName.name))
        previous = segment
        publish(mark, previous)
        directoryChanged = true
      }
      var fsyncs: UInt64 = 0
      if let segment = previous, segment.isOpen, let endOffset = mark.openEndOffset {
        try segment.file.truncate(to: endOffset)
        try segment.file.sync()
        writer.openSegmentDirty = false
        fsyncs += 1
      }
      if directoryChanged || writer.directoryDirty {
        try LogFile.syncDirectory(directory)
        writer.directoryDirty = false
        fsyncs += 1
      }
      state.withLock { state in
        state.statistics.fsyncCalls += fsyncs
        state.statistics.appendsRolledBack += 1
      }
    } catch {
      throw RaftLogError(.ioFailure, "cannot undo a failed append: \(error.message)", file: error.file)
    }
    logger.debug(
      "undid a failed append to the Raft log",
      metadata: ["lastIndex": "\(mark.lastIndex)", "segmentsRemoved": "\(created.count)"])
  }

  /// Makes readers see the log as it was at `mark`, with `previous` as its last segment.
  private func publish(_ mark: AppendMark, _ previous: LogSegment?) {
    state.withLock { state in
      state.segments.removeSubrange(mark.segmentCount...)
      if let previous { state.segments[mark.segmentCount - 1] = previous }
      state.cache.truncate(from: mark.lastIndex + 1)
      state.durableLastIndex = min(state.durableLastIndex, mark.lastIndex)
    }
  }
}
