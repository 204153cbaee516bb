import Foundation
import OMProto
import RaftProto

/// Fuzzed `raft.messages` payloads from peers that are not members of the group: every kind of
/// Raft message with terms, indexes and peers on the edges, then mutated on the wire.
///
/// Appended entries carry a marker write (a volume named `raftfuzz…`): if any replica ever
/// applied an entry from a fuzzer, that volume would appear, so the check needs no log access.
enum RaftBatchMutator {
  static let markerVolumePrefix = "raftfuzz"
  /// Terms and indexes a real group sees (small), and ones it never should (the edges).
  static let edgeNumbers: [UInt64] = [0, 1, 2, 3, 5, 8, 1_000, UInt64(Int64.max), UInt64.max - 1, UInt64.max]

  struct Batch {
    var bytes: [UInt8]
    var mutated: Bool
  }

  /// A batch from a stranger to `recipient` (sometimes to another peer, or to nobody), which
  /// belongs to `members`.
  static func batch(members: [UInt64], recipient: UInt64?, random: inout FuzzRandom) -> Batch {
    let from = stranger(members: members, random: &random)
    let to = recipient.flatMap { random.chance(7, in: 8) ? $0 : nil } ?? random.pick(members + edgeNumbers)
    var batch = RaftWireBatch()
    let count = random.chance(1, in: 10) ? 0 : random.int(1...4)
    batch.messages = (0..<count).map { _ in message(from: from, to: to, members: members, random: &random) }
    let bytes: [UInt8] = try! batch.serializedBytes()
    switch random.int(0...5) {
    case 0: return Batch(bytes: ProtobufMutator.mutate(bytes, random: &random), mutated: true)
    case 1: return Batch(bytes: ByteMutator.mutate(bytes, random: &random), mutated: true)
    default: return Batch(bytes: bytes, mutated: false)
    }
  }

  /// A peer id that is not a member: random, an edge value, or 0 (which names nobody).
  static func stranger(members: [UInt64], random: inout FuzzRandom) -> UInt64 {
    while true {
      let candidate = random.chance(1, in: 3) ? random.pick(edgeNumbers) : random.next()
      if !members.contains(candidate) { return candidate }
    }
  }

  static func message(from: UInt64, to: UInt64, members: [UInt64], random: inout FuzzRandom) -> RaftWireMessage {
    var message = RaftWireMessage()
    message.from = from
    message.to = to
    message.term = random.pick(edgeNumbers)
    switch random.int(0...13) {
    case 0:
      message.preVote.lastLog = position(random: &random)
    case 1:
      message.vote.lastLog = position(random: &random)
      message.vote.leadershipTransfer = random.chance(1, in: 2)
    case 2:
      message.preVoteResponse.granted = true
    case 3:
      message.voteResponse.granted = true
    case 4, 5:
      message.append = append(random: &random)
    case 6:
      message.appendResponse.index = random.pick(edgeNumbers)
      message.appendResponse.rejected = random.chance(1, in: 2)
      message.appendResponse.hint = position(random: &random)
    case 7:
      message.heartbeat.commit = random.pick(edgeNumbers)
      message.heartbeat.readRound = random.pick(edgeNumbers)
    case 8:
      message.heartbeatResponse.readRound = random.pick(edgeNumbers)
    case 9:
      message.snapshotNotice.leaderSnapshot = position(random: &random)
      var record = RaftWireMembershipRecord()
      record.index = random.pick(edgeNumbers)
      record.membership.voters = members.isEmpty ? [from] : members + [from]
      message.snapshotNotice.membershipHistory = random.chance(1, in: 4) ? [] : [record]
    case 10:
      message.snapshotStatus.state = RaftWireSnapshotInstallState(rawValue: random.int(0...4))!
      message.snapshotStatus.installed = position(random: &random)
    case 11:
      message.timeoutNow = RaftWireTimeoutNow()
    case 12:
      message.readIndex.context = Data(random.bytes(random.int(0...32)))
    default:
      message.transferLeader.target = members.isEmpty ? from : random.pick(members + [from, 0])
    }
    return message
  }

  /// An AppendEntries whose entries follow `previous` (as the decoder requires) and carry
  /// marker writes; a commit index anywhere.
  private static func append(random: inout FuzzRandom) -> RaftWireAppend {
    var append = RaftWireAppend()
    let previous = position(random: &random)
    append.previous = previous
    append.commit = random.pick(edgeNumbers)
    var index = previous.index
    var term = max(previous.term, 1)
    for _ in 0..<random.int(0...3) {
      guard index < UInt64.max else { break }
      index += 1
      if random.chance(1, in: 4) { term = max(term, random.pick(edgeNumbers)) }
      var entry = RaftWireEntry()
      entry.term = term
      entry.index = index
      entry.kind = random.chance(1, in: 8) ? .membershipChange : .normal
      entry.data = Data(markerWrite(random: &random))
      append.entries.append(entry)
    }
    return append
  }

  /// A valid createVolume of a `raftfuzz…` volume, as a leader would log it.
  static func markerWrite(random: inout FuzzRandom) -> [UInt8] {
    var request = OMRequestCorpus.createVolume("\(markerVolumePrefix)\(random.int(0...999))", random: &random)
    request.createVolumeRequest.volumeInfo.creationTime = 1
    return try! request.serializedBytes()
  }

  private static func position(random: inout FuzzRandom) -> RaftWireTermIndex {
    var position = RaftWireTermIndex()
    position.term = random.pick(edgeNumbers)
    position.index = random.pick(edgeNumbers)
    return position
  }
}
