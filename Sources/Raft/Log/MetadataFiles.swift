import RaftCore

/// The two small files that hold the log's state outside the segments, each replaced
/// atomically (``LogFile/replaceAtomically(_:with:directory:)``) and checked on read:
///
///     raft-hard-state       = magic "O3RHARD1" | term (u64) | vote (u64, 0 for none) | commit (u64) | crc32c (u32)
///     raft-compaction-point = magic "O3RCOMP1" | generation (u64) | last term (u64) | last index (u64)
///                             | voter count (u32) | learner count (u32) | peer ids (u64 each) | crc32c (u32)
///
/// Integers are little-endian; the checksum covers every byte before it. A missing file means
/// the initial state (a new log); a damaged one refuses to open.
enum MetadataFiles {
  static let hardStateName = "raft-hard-state"
  static let compactionPointName = "raft-compaction-point"
  /// The bound on a decoded membership, so that a damaged count cannot allocate without limit.
  static let membersMax = 4096

  private static let hardStateMagic: [UInt8] = Array("O3RHARD1".utf8)
  private static let compactionMagic: [UInt8] = Array("O3RCOMP1".utf8)

  static func encode(_ hardState: HardState) -> [UInt8] {
    var bytes = hardStateMagic
    bytes.appendLittleEndian(hardState.term)
    bytes.appendLittleEndian(hardState.vote?.rawValue ?? 0)
    bytes.appendLittleEndian(hardState.commit)
    bytes.appendLittleEndian(CRC32C.checksum(bytes))
    return bytes
  }

  static func decodeHardState(_ bytes: [UInt8], file: String) throws(RaftLogError) -> HardState {
    try verify(bytes, magic: hardStateMagic, exactBytes: 36, file: file)
    let vote = bytes.littleEndianUInt64(at: 16)
    return HardState(
      term: bytes.littleEndianUInt64(at: 8), vote: vote == 0 ? nil : PeerID(vote),
      commit: bytes.littleEndianUInt64(at: 24))
  }

  static func encode(_ point: CompactionPoint) -> [UInt8] {
    var bytes = compactionMagic
    bytes.appendLittleEndian(point.generation)
    bytes.appendLittleEndian(point.snapshot.last.term)
    bytes.appendLittleEndian(point.snapshot.last.index)
    let membership = point.snapshot.membership
    bytes.appendLittleEndian(UInt32(membership.voters.count))
    bytes.appendLittleEndian(UInt32(membership.learners.count))
    for peer in membership.voters + membership.learners { bytes.appendLittleEndian(peer.rawValue) }
    bytes.appendLittleEndian(CRC32C.checksum(bytes))
    return bytes
  }

  static func decodeCompactionPoint(_ bytes: [UInt8], file: String) throws(RaftLogError)
    -> CompactionPoint
  {
    guard bytes.count >= 44 else { throw damaged("\(bytes.count) bytes is too short", file) }
    let voterCount = Int(bytes.littleEndianUInt32(at: 32))
    let learnerCount = Int(bytes.littleEndianUInt32(at: 36))
    guard voterCount + learnerCount <= membersMax else {
      throw damaged("membership of \(voterCount + learnerCount) peers", file)
    }
    try verify(bytes, magic: compactionMagic, exactBytes: 44 + 8 * (voterCount + learnerCount), file: file)
    let peers = (0..<voterCount + learnerCount).map { bytes.littleEndianUInt64(at: 40 + 8 * $0) }
    let distinct = Set(peers)
    guard !peers.contains(0), distinct.count == peers.count else {
      throw damaged("invalid peer list", file)
    }
    let membership = Membership(
      voters: peers[..<voterCount].map { PeerID($0) }, learners: peers[voterCount...].map { PeerID($0) })
    return CompactionPoint(
      generation: bytes.littleEndianUInt64(at: 8),
      snapshot: SnapshotMetadata(
        last: TermIndex(term: bytes.littleEndianUInt64(at: 16), index: bytes.littleEndianUInt64(at: 24)),
        membership: membership))
  }

  private static func verify(_ bytes: [UInt8], magic: [UInt8], exactBytes: Int, file: String)
    throws(RaftLogError)
  {
    guard bytes.count == exactBytes else {
      throw damaged("\(bytes.count) bytes, \(exactBytes) expected", file)
    }
    guard Array(bytes[0..<8]) == magic else { throw damaged("unknown format (bad magic)", file) }
    guard CRC32C.checksum(bytes[..<(exactBytes - 4)]) == bytes.littleEndianUInt32(at: exactBytes - 4)
    else { throw damaged("checksum mismatch", file) }
  }

  private static func damaged(_ reason: String, _ file: String) -> RaftLogError {
    RaftLogError(.corruptMetadata, "metadata file is damaged: \(reason)", file: file)
  }
}

/// Where the log starts: the snapshot metadata it was compacted to, and the generation of
/// segments written since the last snapshot install (see ``SegmentFormat``).
struct CompactionPoint: Hashable, Sendable {
  var generation: UInt64
  var snapshot: SnapshotMetadata

  static let initial = CompactionPoint(
    generation: 0, snapshot: SnapshotMetadata(last: .zero, membership: .empty))
}
