import RaftCore

extension DurableRaftLog {
  /// Deletes every closed segment whose entries all lie at or below `index` (Ozone passes the
  /// state machine's durably applied index minus `ozone.om.ratis.log.purge.gap`). The open
  /// segment is never purged, so the log may keep entries below `index`.
  ///
  /// The new compaction point (the last purged entry and the membership as of it, folding in
  /// the purged membership changes as `MemoryRaftStorage.compact` does) is made durable before
  /// any file is deleted; a crash in between leaves files that the next open deletes.
  public func purge(through index: UInt64) throws(RaftLogError) {
    try writer.withLock { _ throws(RaftLogError) in
      let (segments, compaction) = state.withLock { ($0.segments, $0.compaction) }
      let purged = segments.prefix { !$0.isOpen && $0.lastIndex <= index }
      guard let lastPurged = purged.last else { return }
      var membership = compaction.snapshot.membership
      for segment in purged {
        for changeIndex in segment.membershipIndexes {
          membership = try applyMembershipChange(at: changeIndex, to: membership, segment)
        }
      }
      let last = TermIndex(term: lastPurged.term(at: lastPurged.lastIndex), index: lastPurged.lastIndex)
      let point = CompactionPoint(
        generation: compaction.generation,
        snapshot: SnapshotMetadata(last: last, membership: membership))
      try writeCompactionPoint(point)
      state.withLock { state in
        state.segments.removeFirst(purged.count)
        state.compaction = point
        state.cache.dropPrefix(through: last.index)
      }
      logger.info("purged the Raft log", metadata: ["throughIndex": "\(last.index)", "segments": "\(purged.count)"])
      try removeFiles(purged)
      try syncDirectoryCounted()
    }
  }

  /// Replaces the whole log with an empty one that starts after `metadata`, after the state
  /// machine installed a checkpoint at that point (notification mode). The next append starts
  /// at `metadata.last.index + 1`. The metadata is durable when this returns.
  ///
  /// The compaction point is written first with a new generation, so that segments a crash
  /// leaves behind are recognised as stale on the next open, then every segment is deleted.
  public func installSnapshot(_ metadata: SnapshotMetadata) throws(RaftLogError) {
    try writer.withLock { writer throws(RaftLogError) in
      let compaction = state.withLock { $0.compaction }
      precondition(metadata.last.index >= compaction.snapshot.last.index, "snapshot older than the log")
      let point = CompactionPoint(generation: compaction.generation + 1, snapshot: metadata)
      try writeCompactionPoint(point)
      let removed = state.withLock { state in
        let removed = state.segments
        state.segments = []
        state.compaction = point
        state.cache.removeAll()
        state.durableLastIndex = metadata.last.index
        return removed
      }
      writer.openSegmentDirty = false
      logger.info("installed a snapshot in the Raft log", metadata: ["snapshot": "\(metadata)"])
      try removeFiles(removed.reversed())
      try syncDirectoryCounted()
      writer.directoryDirty = false
    }
  }

  private func applyMembershipChange(at index: UInt64, to membership: Membership, _ segment: LogSegment)
    throws(RaftLogError) -> Membership
  {
    let entry = state.withLock { state in
      try? state.entries(in: index..<index + 1, payloadBytesMax: Int.max).first
    }
    do {
      return try membership.applying(MembershipChange(decoding: entry!.data))
    } catch {
      throw RaftLogError(
        .corruptRecord, "membership change at index \(index) does not apply to \(membership): \(error)",
        file: segment.file.path, offset: segment.recordRange(of: index).lowerBound)
    }
  }

  private func writeCompactionPoint(_ point: CompactionPoint) throws(RaftLogError) {
    try LogFile.replaceAtomically(
      path(MetadataFiles.compactionPointName), with: MetadataFiles.encode(point), directory: directory,
      faults: writeFaults)
    state.withLock { $0.statistics.fsyncCalls += 2 }
  }

  private func syncDirectoryCounted() throws(RaftLogError) {
    try LogFile.syncDirectory(directory)
    state.withLock { $0.statistics.fsyncCalls += 1 }
  }
}
