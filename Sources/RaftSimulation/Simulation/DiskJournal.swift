import RaftCore

/// One write a node makes to its simulated disk, in the order it makes them.
enum DiskRecord: Equatable, Sendable {
  case entry(LogEntry)
  case hardState(HardState)
  case snapshot(SnapshotMetadata)
  case compaction(through: UInt64)

  /// Applies the write to a storage image.
  func apply(to storage: MemoryRaftStorage) {
    switch self {
    case .entry(let entry): storage.append([entry])
    case .hardState(let hardState): storage.setHardState(hardState)
    case .snapshot(let metadata): storage.applySnapshot(metadata)
    case .compaction(let index): storage.compact(through: index)
    }
  }
}

/// The byte layout of the simulated journal: frames of `length (4 bytes) | payload | FNV-1a 64
/// of the payload (8 bytes)`, like a segment record with a checksum.
///
/// A crash keeps an arbitrary byte prefix of what was not fsync'd, so the last frame kept may be
/// cut anywhere; `decodeFrames` must stop at it and drop it (a torn write), keeping every whole
/// frame before it.
enum DiskJournal {
  static func appendFrame(_ record: DiskRecord, to bytes: inout [UInt8]) {
    var payload: [UInt8] = []
    encode(record, into: &payload)
    appendNumber(UInt64(payload.count), bytes: 4, to: &bytes)
    bytes.append(contentsOf: payload)
    appendNumber(TraceHash.of(payload), bytes: 8, to: &bytes)
  }

  /// The whole frames at the start of `bytes`, and whether a partial or corrupt frame followed.
  static func decodeFrames(_ bytes: ArraySlice<UInt8>) -> (records: [DiskRecord], tornTail: Bool) {
    var records: [DiskRecord] = []
    var position = bytes.startIndex
    while position < bytes.endIndex {
      guard position + 4 <= bytes.endIndex else { return (records, true) }
      let length = Int(readNumber(bytes, at: position, bytes: 4))
      let payloadStart = position + 4
      let checksumStart = payloadStart + length
      guard checksumStart + 8 <= bytes.endIndex else { return (records, true) }
      let payload = Array(bytes[payloadStart..<checksumStart])
      guard readNumber(bytes, at: checksumStart, bytes: 8) == TraceHash.of(payload),
        let record = decode(payload)
      else { return (records, true) }
      records.append(record)
      position = checksumStart + 8
    }
    return (records, false)
  }

  private static func encode(_ record: DiskRecord, into payload: inout [UInt8]) {
    switch record {
    case .entry(let entry):
      payload.append(1)
      for number in [entry.term, entry.index] { appendNumber(number, bytes: 8, to: &payload) }
      payload.append(entry.kind.rawValue)
      appendNumber(UInt64(entry.data.count), bytes: 4, to: &payload)
      payload.append(contentsOf: entry.data)
    case .hardState(let hardState):
      payload.append(2)
      for number in [hardState.term, hardState.vote?.rawValue ?? 0, hardState.commit] {
        appendNumber(number, bytes: 8, to: &payload)
      }
    case .snapshot(let metadata):
      payload.append(3)
      for number in [metadata.last.term, metadata.last.index] {
        appendNumber(number, bytes: 8, to: &payload)
      }
      for peers in [metadata.membership.voters, metadata.membership.learners] {
        appendNumber(UInt64(peers.count), bytes: 2, to: &payload)
        for peer in peers { appendNumber(peer.rawValue, bytes: 8, to: &payload) }
      }
    case .compaction(let index):
      payload.append(4)
      appendNumber(index, bytes: 8, to: &payload)
    }
  }

  private static func decode(_ payload: [UInt8]) -> DiskRecord? {
    var cursor = Cursor(bytes: payload)
    switch cursor.number(1) {
    case 1:
      guard let term = cursor.number(8), let index = cursor.number(8),
        let kind = cursor.number(1).flatMap({ EntryKind(rawValue: UInt8($0)) }),
        let count = cursor.number(4), let data = cursor.bytes(Int(count)), term > 0, index > 0
      else { return nil }
      return .entry(LogEntry(term: term, index: index, kind: kind, data: data))
    case 2:
      guard let term = cursor.number(8), let vote = cursor.number(8), let commit = cursor.number(8)
      else { return nil }
      return .hardState(HardState(term: term, vote: vote == 0 ? nil : PeerID(vote), commit: commit))
    case 3:
      guard let term = cursor.number(8), let index = cursor.number(8),
        let voters = cursor.peers(), let learners = cursor.peers()
      else { return nil }
      let membership = Membership(voters: voters, learners: learners)
      return .snapshot(
        SnapshotMetadata(last: TermIndex(term: term, index: index), membership: membership))
    case 4:
      return cursor.number(8).map { .compaction(through: $0) }
    default:
      return nil
    }
  }

  private static func appendNumber(_ number: UInt64, bytes count: Int, to bytes: inout [UInt8]) {
    for shift in stride(from: (count - 1) * 8, through: 0, by: -8) {
      bytes.append(UInt8(truncatingIfNeeded: number >> UInt64(shift)))
    }
  }

  private static func readNumber(_ bytes: ArraySlice<UInt8>, at start: Int, bytes count: Int)
    -> UInt64
  {
    bytes[start..<(start + count)].reduce(0) { $0 << 8 | UInt64($1) }
  }

  private struct Cursor {
    let bytes: [UInt8]
    var position = 0

    mutating func number(_ count: Int) -> UInt64? {
      guard let slice = self.bytes(count) else { return nil }
      return slice.reduce(0) { $0 << 8 | UInt64($1) }
    }

    mutating func bytes(_ count: Int) -> [UInt8]? {
      guard position + count <= bytes.count else { return nil }
      defer { position += count }
      return Array(bytes[position..<(position + count)])
    }

    mutating func peers() -> [PeerID]? {
      guard let count = number(2) else { return nil }
      var peers: [PeerID] = []
      for _ in 0..<count {
        guard let raw = number(8), raw != 0 else { return nil }
        peers.append(PeerID(raw))
      }
      return peers
    }
  }
}
