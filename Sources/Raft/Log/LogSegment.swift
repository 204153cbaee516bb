import RaftCore

/// The in-memory index of one segment file: where each entry's record starts and its term, so
/// that terms are answered without I/O and entries are read with one `pread` per segment.
///
/// Invariant: `recordOffsets` ascend from ``SegmentFormat/headerBytes``; the record of entry
/// `firstIndex + i` spans `recordOffsets[i] ..< recordEnd(i)`, and `endOffset` is the file's
/// valid length (the next record goes there).
struct LogSegment: Sendable {
  var file: LogFile
  let firstIndex: UInt64
  var isOpen: Bool
  private(set) var recordOffsets: [Int] = []
  private(set) var terms: [UInt64] = []
  /// The indexes of membership-change entries, folded into the compaction point on purge.
  private(set) var membershipIndexes: [UInt64] = []
  private(set) var endOffset: Int

  init(file: LogFile, firstIndex: UInt64, isOpen: Bool, endOffset: Int = SegmentFormat.headerBytes) {
    precondition(firstIndex > 0, "log indexes start at 1")
    self.file = file
    self.firstIndex = firstIndex
    self.isOpen = isOpen
    self.endOffset = endOffset
  }

  var entryCount: Int { terms.count }
  var isEmpty: Bool { terms.isEmpty }
  /// The last index held, or `firstIndex - 1` when empty.
  var lastIndex: UInt64 { firstIndex + UInt64(terms.count) - 1 }

  func contains(_ index: UInt64) -> Bool { index >= firstIndex && index <= lastIndex }

  func term(at index: UInt64) -> UInt64 { terms[position(of: index)] }

  /// The byte range of the record of `index` in the file.
  func recordRange(of index: UInt64) -> Range<Int> {
    let position = position(of: index)
    let end = position + 1 < recordOffsets.count ? recordOffsets[position + 1] : endOffset
    return recordOffsets[position]..<end
  }

  func dataBytes(at index: UInt64) -> Int {
    recordRange(of: index).count - SegmentFormat.recordOverheadBytes
  }

  /// The segment's file name for its current state.
  var fileName: SegmentFileName {
    isOpen ? .open(first: firstIndex) : .closed(first: firstIndex, last: lastIndex)
  }

  /// Records that the entry `index` of `term` now ends the segment, its record at `endOffset`.
  mutating func appendRecord(index: UInt64, term: UInt64, kind: EntryKind, bytes: Int) {
    precondition(index == lastIndex + 1, "record \(index) does not follow \(lastIndex)")
    precondition(terms.last.map { term >= $0 } ?? true, "term goes backwards at \(index)")
    recordOffsets.append(endOffset)
    terms.append(term)
    if kind == .membershipChange { membershipIndexes.append(index) }
    endOffset += bytes
  }

  /// Forgets the entries from `index` on (all of them when `index` is the first); the file must
  /// then be cut at the new `endOffset`.
  mutating func truncate(from index: UInt64) {
    precondition(index >= firstIndex && index <= lastIndex, "truncation point outside the segment")
    let keep = position(of: index)
    endOffset = recordOffsets[keep]
    recordOffsets.removeSubrange(keep...)
    terms.removeSubrange(keep...)
    membershipIndexes.removeAll { $0 >= index }
  }

  private func position(of index: UInt64) -> Int {
    precondition(contains(index), "index \(index) not in segment \(firstIndex)...\(lastIndex)")
    return Int(index - firstIndex)
  }
}
