import RaftCore

/// What readers of a ``DurableRaftLog`` see, guarded by its state lock: the metadata, the
/// segment index and the tail cache. Reads of older entries `pread` the segment files under the
/// lock, so that no file is closed while it is being read.
struct LogState: Sendable {
  var hardState: HardState
  var compaction: CompactionPoint
  /// In index order; only the last may be open, and it may be empty.
  var segments: [LogSegment]
  var cache: TailCache
  /// The last index fsync'd by ``DurableRaftLog/sync()`` (and still held).
  var durableLastIndex: UInt64
  var statistics = RaftLogStatistics()

  var snapshot: SnapshotMetadata { compaction.snapshot }
  var firstIndex: UInt64 { snapshot.last.index + 1 }
  var lastIndex: UInt64 { segments.last?.lastIndex ?? snapshot.last.index }

  /// The position in `segments` of the segment holding `index`, which the log holds.
  func segmentPosition(containing index: UInt64) -> Int {
    precondition(index >= firstIndex && index <= lastIndex, "index \(index) is not in the log")
    var low = 0
    var high = segments.count - 1
    while low < high {
      let middle = (low + high + 1) / 2
      if segments[middle].firstIndex <= index { low = middle } else { high = middle - 1 }
    }
    precondition(segments[low].contains(index), "segment index broken at \(index)")
    return low
  }

  func term(at index: UInt64) throws(RaftStorageError) -> UInt64 {
    if index == snapshot.last.index { return snapshot.last.term }
    guard index >= firstIndex else {
      throw RaftStorageError(.compacted, "index \(index) is below the first index \(firstIndex)")
    }
    guard index <= lastIndex else {
      throw RaftStorageError(.unavailable, "index \(index) is past the last index \(lastIndex)")
    }
    return segments[segmentPosition(containing: index)].term(at: index)
  }

  /// The entries of `range`, limited by payload as ``RaftStorage`` says: from the tail cache
  /// where it holds them, from the files before that.
  mutating func entries(in range: Range<UInt64>, payloadBytesMax: Int) throws(RaftStorageError)
    -> [LogEntry]
  {
    guard range.lowerBound >= firstIndex else {
      throw RaftStorageError(.compacted, "index \(range.lowerBound) is below \(firstIndex)")
    }
    guard range.upperBound <= lastIndex + 1 else {
      throw RaftStorageError(.unavailable, "index \(range.upperBound - 1) is past \(lastIndex)")
    }
    guard !range.isEmpty else { return [] }
    let end = limitedEnd(range, payloadBytesMax)
    let cacheStart = min(max(cache.firstIndex ?? end, range.lowerBound), end)
    var result = readFromFiles(range.lowerBound..<cacheStart)
    statistics.entriesReadFromFiles += UInt64(result.count)
    for index in cacheStart..<end { result.append(cache.entry(at: index)!) }
    return result
  }

  /// The end of the longest prefix of `range` whose payload stays within `payloadBytesMax`, but
  /// at least one entry (the rule of `MemoryRaftStorage`).
  private func limitedEnd(_ range: Range<UInt64>, _ payloadBytesMax: Int) -> UInt64 {
    var position = segmentPosition(containing: range.lowerBound)
    var total = 0
    var index = range.lowerBound
    while index < range.upperBound {
      if index > segments[position].lastIndex { position += 1 }
      total += segments[position].dataBytes(at: index)
      if index > range.lowerBound && total > payloadBytesMax { break }
      index += 1
    }
    return index
  }

  /// Reads and verifies the records of `range`, one `pread` per segment. A failure means the
  /// disk lost data the log had verified: the process stops (fail-stop, see ``RaftStorage``).
  private func readFromFiles(_ range: Range<UInt64>) -> [LogEntry] {
    guard !range.isEmpty else { return [] }
    var result: [LogEntry] = []
    result.reserveCapacity(range.count)
    var position = segmentPosition(containing: range.lowerBound)
    while result.count < range.count {
      let segment = segments[position]
      let first = range.lowerBound + UInt64(result.count)
      let last = min(segment.lastIndex, range.upperBound - 1)
      let start = segment.recordRange(of: first).lowerBound
      let bytes: [UInt8]
      do {
        bytes = try segment.file.read(at: start, count: segment.recordRange(of: last).upperBound - start)
      } catch {
        fatalError("cannot read entries \(first)...\(last) of the Raft log: \(error)")
      }
      decode(bytes, start: start, first...last, segment, into: &result)
      position += 1
    }
    return result
  }

  private func decode(
    _ bytes: [UInt8], start: Int, _ indexes: ClosedRange<UInt64>, _ segment: LogSegment,
    into result: inout [LogEntry]
  ) {
    var offset = 0
    for expected in indexes {
      guard case .record(let term, let index, let kind, let data, let end) =
        SegmentFormat.parseRecord(bytes, at: offset),
        index == expected, term == segment.term(at: expected)
      else {
        fatalError(
          "Raft log record of index \(expected) is damaged: file \(segment.file.path) offset \(start + offset)")
      }
      result.append(LogEntry(term: term, index: index, kind: kind, data: Array(bytes[data])))
      offset = end
    }
  }
}
