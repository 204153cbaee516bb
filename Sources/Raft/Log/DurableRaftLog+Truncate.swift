import RaftCore

extension DurableRaftLog {
  /// Discards the entries from `index` on (a conflicting suffix), leaving the segment that held
  /// `index - 1` open for the appends that follow.
  ///
  /// Readers stop seeing the entries first; then the files change, in an order whose every
  /// crash point reopens as a valid log: later segments are deleted newest first, a closed
  /// segment is renamed open and the directory fsync'd before its file is cut, and the cut is
  /// fsync'd before new records can land where old ones were.
  func truncate(from index: UInt64, _ writer: inout WriterState) throws(RaftLogError) {
    let (position, segments) = state.withLock { ($0.segmentPosition(containing: index), $0.segments) }
    var target = segments[position]
    let keepsTarget = index > target.firstIndex
    let removed = Array(segments[(keepsTarget ? position + 1 : position)...])
    if keepsTarget { target.truncate(from: index) }
    state.withLock { state in
      state.segments.removeSubrange((keepsTarget ? position + 1 : position)...)
      if keepsTarget { state.segments[position] = target }
      state.cache.truncate(from: index)
      state.durableLastIndex = min(state.durableLastIndex, index - 1)
    }
    logger.info(
      "truncating the Raft log", metadata: ["fromIndex": "\(index)", "segmentsRemoved": "\(removed.count)"])
    try removeFiles(removed.reversed())
    writer.openSegmentDirty = false
    var directoryChanged = !removed.isEmpty
    if keepsTarget && !target.isOpen {
      target.isOpen = true
      do {
        try target.file.rename(to: path(target.fileName.name))
      } catch {
        // Readers no longer see the discarded entries and files are gone: this truncation
        // cannot be repeated, so even a full disk is fatal here.
        throw RaftLogError(.ioFailure, error.message, file: error.file)
      }
      state.withLock { $0.segments[position] = target }
      directoryChanged = true
    }
    var fsyncs: UInt64 = 0
    if directoryChanged {
      try LogFile.syncDirectory(directory)
      writer.directoryDirty = false
      fsyncs += 1
    }
    if keepsTarget {
      try target.file.truncate(to: target.endOffset)
      try target.file.sync()
      fsyncs += 1
    }
    state.withLock { $0.statistics.fsyncCalls += fsyncs }
  }

  /// Closes and deletes the files of `segments`, which readers no longer see. The deletions are
  /// durable only after a directory fsync.
  func removeFiles<Segments: Sequence<LogSegment>>(_ segments: Segments) throws(RaftLogError) {
    var count: UInt64 = 0
    for segment in segments {
      segment.file.close()
      try LogFile.remove(segment.file.path)
      count += 1
    }
    state.withLock { $0.statistics.segmentsDeleted += count }
  }
}
