import OMMetadata
import RaftCore

/// The Raft membership as the OM records it in metaTable, so that a checkpoint of om.db says
/// which group it belongs to at its term#index.
///
/// Layout: a format byte (1), the voter count as 4 big-endian bytes, each voter's peer number as
/// 8 big-endian bytes, then the same for the learners.
enum OMRaftMembershipRecord {
  /// metaTable key of the record.
  static let key = Array("#RAFTMEMBERSHIP".utf8)
  static let formatVersion: UInt8 = 1
  /// More members than this means the bytes are not a membership record.
  static let membersMax = 1024

  static func encode(_ membership: Membership) -> [UInt8] {
    var bytes: [UInt8] = [formatVersion]
    for peers in [membership.voters, membership.learners] {
      append(UInt64(peers.count), width: 4, to: &bytes)
      for peer in peers { append(peer.rawValue, width: 8, to: &bytes) }
    }
    return bytes
  }

  /// Decodes a record; throws `OMMetadataError(.corruptValue)` for anything else.
  static func decode(_ bytes: [UInt8]) throws -> Membership {
    var reader = Reader(bytes: bytes)
    guard try reader.read(width: 1) == UInt64(formatVersion) else {
      throw OMMetadataError(.corruptValue, "metaTable's Raft membership has an unknown format \(bytes.first ?? 0)")
    }
    let voters = try reader.readPeers()
    let learners = try reader.readPeers()
    guard reader.isAtEnd, Set(voters).count == voters.count, Set(learners).count == learners.count,
      Set(voters).isDisjoint(with: learners)
    else {
      throw OMMetadataError(.corruptValue, "metaTable's Raft membership is not a valid member list")
    }
    return Membership(voters: voters, learners: learners)
  }

  private static func append(_ value: UInt64, width: Int, to bytes: inout [UInt8]) {
    for shift in stride(from: (width - 1) * 8, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
  }

  /// Reads big-endian integers from the record, refusing to run past its end.
  private struct Reader {
    let bytes: [UInt8]
    var offset = 0

    var isAtEnd: Bool { offset == bytes.count }

    mutating func read(width: Int) throws -> UInt64 {
      guard bytes.count - offset >= width else {
        throw OMMetadataError(.corruptValue, "metaTable's Raft membership is truncated at byte \(offset)")
      }
      let value = bytes[offset..<offset + width].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
      offset += width
      return value
    }

    mutating func readPeers() throws -> [PeerID] {
      let count = try read(width: 4)
      guard count <= UInt64(OMRaftMembershipRecord.membersMax) else {
        throw OMMetadataError(.corruptValue, "metaTable's Raft membership lists \(count) peers")
      }
      return try (0..<count).map { _ in
        let raw = try read(width: 8)
        guard raw != 0 else { throw OMMetadataError(.corruptValue, "metaTable's Raft membership names peer 0") }
        return PeerID(raw)
      }
    }
  }
}
