import RaftCore

extension DurableRaftLog {
  /// Writes `entries` (contiguous, ascending), discarding every held entry at or after the
  /// first one first, as `MemoryRaftStorage.append` does; entries below ``firstIndex`` are
  /// skipped. Not durable until ``sync()``. A truncation into closed segments reopens the
  /// segment that holds the cut and is made durable before the new entries are written.
  ///
  /// A write that fails (a full disk) is undone before the error is thrown: the files and the
  /// entries readers see are back to where they were after the truncation, so the call can be
  /// repeated (see ``RaftLogError/Code/noSpace``).
  public func append(_ entries: [LogEntry]) throws(RaftLogError) {
    guard let first = entries.first else { return }
    for (offset, entry) in entries.enumerated() {
      precondition(entry.index == first.index + UInt64(offset), "entries not contiguous")
      precondition(offset == 0 || entry.term >= entries[offset - 1].term, "term goes backwards")
      guard entry.data.count <= Self.entryDataBytesMax else {
        throw RaftLogError(
          .entryTooLarge,
          "entry \(entry.termIndex) holds \(entry.data.count) bytes, at most \(Self.entryDataBytesMax) fit")
      }
    }
    try writer.withLock { writer throws(RaftLogError) in
      let (firstIndex, lastIndex) = state.withLock { ($0.firstIndex, $0.lastIndex) }
      precondition(first.index <= lastIndex + 1, "append leaves a gap after \(lastIndex)")
      let kept = entries.drop { $0.index < firstIndex }
      guard let firstKept = kept.first else { return }
      if firstKept.index <= lastIndex { try truncate(from: firstKept.index, &writer) }
      let previousTerm = state.withLock { try? $0.term(at: firstKept.index - 1) }
      precondition(firstKept.term >= previousTerm!, "term goes backwards at \(firstKept.index)")
      let mark = appendMark()
      do throws(RaftLogError) {
        try write(kept, &writer)
      } catch {
        try rollBack(to: mark, &writer)
        throw error
      }
    }
  }

  /// Records `hardState` to be written by the next ``sync()``, after the entries; readers see
  /// it at once.
  public func setHardState(_ hardState: HardState) {
    writer.withLock { writer in
      state.withLock { state in
        precondition(hardState.term >= state.hardState.term, "term went backwards")
        state.hardState = hardState
      }
      writer.pendingHardState = hardState
    }
  }

  /// Makes every appended entry durable (fsync of the open segment, and of the directory when
  /// segments were created or renamed), then replaces the hard-state file if the hard state
  /// changed. Returns when all of it is on disk, with one allowance: when only the commit index
  /// changed, the directory is not fsync'd after the rename (two fsyncs instead of three), so a
  /// crash may bring back the previous commit index, which Raft tolerates (the commit index is
  /// relearned from the leader; `Ready.mustSync` is false for it). A new term or vote is always
  /// fully durable.
  public func sync() throws(RaftLogError) {
    try writer.withLock { writer throws(RaftLogError) in
      let (openSegment, lastIndex) = state.withLock { ($0.segments.last, $0.lastIndex) }
      var fsyncs: UInt64 = 0
      if writer.openSegmentDirty, let openSegment {
        try openSegment.file.sync()
        fsyncs += 1
        writer.openSegmentDirty = false
      }
      if writer.directoryDirty {
        try LogFile.syncDirectory(directory)
        fsyncs += 1
        writer.directoryDirty = false
      }
      state.withLock { state in
        state.durableLastIndex = lastIndex
        state.statistics.fsyncCalls += fsyncs
        state.statistics.syncs += 1
      }
      guard let hardState = writer.pendingHardState else { return }
      writer.pendingHardState = nil
      guard hardState != writer.durableHardState else { return }
      precondition(hardState.commit <= lastIndex, "commit \(hardState.commit) past the log end \(lastIndex)")
      // Only the term and the vote must survive a crash (Raft paper, Figure 2): the commit index
      // is relearned from the leader, and writing it on every sync would double the fsyncs of
      // every append. It is written whenever the term or the vote is.
      guard hardState.term != writer.durableHardState.term || hardState.vote != writer.durableHardState.vote else {
        return
      }
      do throws(RaftLogError) {
        try LogFile.replaceAtomically(
          path(MetadataFiles.hardStateName), with: MetadataFiles.encode(hardState), directory: directory,
          durably: true, faults: writeFaults)
      } catch {
        // The old file is intact: the next sync writes this hard state again.
        writer.pendingHardState = hardState
        throw error
      }
      writer.durableHardState = hardState
      state.withLock { state in
        state.statistics.fsyncCalls += 2
        state.statistics.hardStateWrites += 1
      }
    }
  }

  /// Writes the records of `entries`, which follow the last index, rolling segments as they
  /// fill; each segment's share goes out in one `pwrite` and is then published to readers.
  private func write(_ entries: ArraySlice<LogEntry>, _ writer: inout WriterState)
    throws(RaftLogError)
  {
    var buffer: [UInt8] = []
    var pending: [LogEntry] = []
    // Only the open segment's shape is read here: a copy of the segment itself would share its
    // index arrays, and every append to them in `flush` would then copy them whole.
    var openSegment = state.withLock { state in
      state.segments.last.flatMap { $0.isOpen ? (isEmpty: $0.isEmpty, endOffset: $0.endOffset) : nil }
    }
    for entry in entries {
      let recordBytes = SegmentFormat.recordBytes(dataBytes: entry.data.count)
      if let current = openSegment {
        let holdsEntries = !current.isEmpty || !pending.isEmpty
        if holdsEntries && current.endOffset + buffer.count + recordBytes > segmentSizeBytes {
          try flush(&buffer, &pending, &writer)
          try roll(&writer)
          try createSegment(first: entry.index, &writer)
          openSegment = (isEmpty: true, endOffset: SegmentFormat.headerBytes)
        }
      } else {
        try createSegment(first: entry.index, &writer)
        openSegment = (isEmpty: true, endOffset: SegmentFormat.headerBytes)
      }
      SegmentFormat.appendRecord(entry, to: &buffer)
      pending.append(entry)
    }
    try flush(&buffer, &pending, &writer)
  }

  /// Writes `buffer` at the end of the open segment and publishes `pending`, its entries.
  private func flush(_ buffer: inout [UInt8], _ pending: inout [LogEntry], _ writer: inout WriterState)
    throws(RaftLogError)
  {
    guard !pending.isEmpty else { return }
    // Only the file and the offset are taken out: a copy of the whole segment would share its
    // index arrays, and the appends below would then copy them (every flush, O(segment size)).
    let (file, endOffset) = state.withLock { state in
      let segment = state.segments[state.segments.count - 1]
      precondition(segment.isOpen, "writing to a closed segment")
      return (segment.file, segment.endOffset)
    }
    // On failure the records readers see end where they did; `append` cuts the file back.
    try file.write(buffer, at: endOffset, faults: writeFaults)
    writer.openSegmentDirty = true
    state.withLock { state in
      let last = state.segments.count - 1
      for entry in pending {
        state.segments[last].appendRecord(
          index: entry.index, term: entry.term, kind: entry.kind,
          bytes: SegmentFormat.recordBytes(dataBytes: entry.data.count))
        state.cache.append(entry)
      }
      precondition(state.segments[last].endOffset == endOffset + buffer.count, "record sizes disagree")
      state.statistics.bytesWritten += UInt64(buffer.count)
    }
    buffer.removeAll(keepingCapacity: true)
    pending.removeAll(keepingCapacity: true)
  }

  /// Closes the open segment: fsync, then rename to `log_<first>-<last>`. The fsync comes
  /// first so that a closed name never labels records that could still be torn.
  private func roll(_ writer: inout WriterState) throws(RaftLogError) {
    var segment = state.withLock { $0.segments.last! }
    precondition(segment.isOpen && !segment.isEmpty, "rolling a segment that is closed or empty")
    try segment.file.sync()
    writer.openSegmentDirty = false
    segment.isOpen = false
    try segment.file.rename(to: path(segment.fileName.name))
    writer.directoryDirty = true
    state.withLock { state in
      state.segments[state.segments.count - 1] = segment
      state.statistics.fsyncCalls += 1
    }
  }

  /// Creates `log_inprogress_<first>` with its header and makes it the open segment.
  private func createSegment(first: UInt64, _ writer: inout WriterState) throws(RaftLogError) {
    let generation = state.withLock { $0.compaction.generation }
    let file = try LogFile.open(path(SegmentFileName.open(first: first).name), create: true)
    let header = SegmentFormat.header(generation: generation)
    do {
      try file.write(header, at: 0, faults: writeFaults)
    } catch {
      file.close()
      // Nothing refers to the file yet. Should the removal fail too, the next open deletes a
      // headerless open segment at the tail, and a retry recreates it empty.
      try? LogFile.remove(file.path)
      throw error
    }
    writer.directoryDirty = true
    writer.openSegmentDirty = true
    let segment = LogSegment(file: file, firstIndex: first, isOpen: true)
    state.withLock { state in
      state.segments.append(segment)
      state.statistics.segmentsCreated += 1
      state.statistics.bytesWritten += UInt64(header.count)
    }
  }
}
