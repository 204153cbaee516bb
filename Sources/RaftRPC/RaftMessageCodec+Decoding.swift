import NIOCore
import Raft
import RaftCore
import RaftProto
import SwiftProtobuf

// Decoding checks, before any RaftCore initialiser runs, every condition that initialiser would
// stop the process for, and the shape the core relies on when it applies an AppendEntries
// (consecutive indexes, terms never going down). Each failure names the field and the value.
extension RaftMessageCodec {
  /// The messages of a "raft.messages" payload, in order, whatever their groups (tests and tools
  /// that look at one group's traffic).
  ///
  /// - Throws: ``RaftRPCError`` with code `malformedBatch` when the bytes are not a raft.proto
  ///   `Batch`, or `invalidMessage` naming the first message that breaks a rule.
  public static func decodeBatch(_ payload: ByteBuffer) throws(RaftRPCError) -> [RaftMessage] {
    try decodeLabelled(payload).map(\.message)
  }

  /// The messages of a "raft.messages" payload by group: one element per group, in the order
  /// each group first appears, its messages in batch order. Groups are independent, so only the
  /// order within a group matters; delivering each group's messages in one call costs its
  /// Raft loop one wake-up per batch.
  ///
  /// - Throws: as ``decodeBatch(_:)``, and `invalidMessage` when a message's group is neither
  ///   empty nor 16 bytes.
  public static func decodeGroupedBatch(_ payload: ByteBuffer) throws(RaftRPCError) -> [GroupedMessages] {
    var runs: [GroupedMessages] = []
    var positionOfGroup: [RaftGroupID: Int] = [:]
    for (group, message) in try decodeLabelled(payload) {
      if let position = positionOfGroup[group] {
        runs[position].messages.append(message)
      } else {
        positionOfGroup[group] = runs.count
        runs.append(GroupedMessages(group: group, messages: [message]))
      }
    }
    return runs
  }

  /// Every message of the batch with its group, in batch order.
  private static func decodeLabelled(_ payload: ByteBuffer) throws(RaftRPCError)
    -> [(group: RaftGroupID, message: RaftMessage)]
  {
    let batch: RaftWireBatch
    do {
      batch = try RaftWireBatch(
        serializedBytes: payload.readableBytesSpan, options: decodingOptions)
    } catch {
      throw RaftRPCError(
        .malformedBatch,
        "a Raft batch of \(payload.readableBytes) bytes is not a valid raft.proto Batch: \(error)")
    }
    var labelled: [(group: RaftGroupID, message: RaftMessage)] = []
    labelled.reserveCapacity(batch.messages.count)
    for (position, wire) in batch.messages.enumerated() {
      do {
        labelled.append((try group(of: wire), try decode(wire)))
      } catch {
        throw RaftRPCError(
          .invalidMessage, "message \(position) of the batch: \(error.message)")
      }
    }
    return labelled
  }

  /// The group `wire` belongs to.
  ///
  /// - Throws: ``RaftRPCError`` with code `invalidMessage` when its group bytes are neither empty
  ///   (the default group) nor a 16-byte UUID.
  public static func group(of wire: RaftWireMessage) throws(RaftRPCError) -> RaftGroupID {
    guard let group = RaftGroupID(wireBytes: wire.group) else {
      throw invalid(
        "a message from \(wire.from) to \(wire.to) names a group of \(wire.group.count) bytes; a "
          + "group id is empty (the default group) or a \(RaftGroupID.wireBytesCount)-byte UUID")
    }
    return group
  }

  /// Unknown fields (from a newer peer) are dropped rather than kept, and nesting is capped at
  /// what raft.proto needs, so a crafted payload cannot make the decoder recurse deeply.
  private static var decodingOptions: BinaryDecodingOptions {
    var options = BinaryDecodingOptions()
    options.discardUnknownFields = true
    options.messageDepthLimit = 8
    return options
  }

  /// The RaftCore form of `wire`.
  ///
  /// - Throws: ``RaftRPCError`` with code `invalidMessage` naming the offending field.
  public static func decode(_ wire: RaftWireMessage) throws(RaftRPCError) -> RaftMessage {
    let from = try peer(wire.from, "from")
    let to = try peer(wire.to, "to")
    guard let body = wire.body else {
      throw invalid("a message from \(wire.from) to \(wire.to) has no body")
    }
    return RaftMessage(from: from, to: to, term: wire.term, body: try decode(body))
  }

  private static func decode(_ body: RaftWireMessage.OneOf_Body) throws(RaftRPCError)
    -> RaftMessage.Body
  {
    switch body {
    case .preVote(let wire):
      return .preVote(lastLog: decode(wire.lastLog))
    case .preVoteResponse(let wire):
      return .preVoteResponse(granted: wire.granted)
    case .vote(let wire):
      return .vote(lastLog: decode(wire.lastLog), leadershipTransfer: wire.leadershipTransfer)
    case .voteResponse(let wire):
      return .voteResponse(granted: wire.granted)
    case .append(let wire):
      return .append(try decode(wire))
    case .appendResponse(let wire):
      return .appendResponse(
        AppendResponse(index: wire.index, rejected: wire.rejected, hint: decode(wire.hint)))
    case .heartbeat(let wire):
      return .heartbeat(commit: wire.commit, readRound: wire.readRound)
    case .heartbeatResponse(let wire):
      return .heartbeatResponse(readRound: wire.readRound)
    case .snapshotNotice(let wire):
      return .snapshotNotice(try decode(wire))
    case .snapshotStatus(let wire):
      return .snapshotStatus(try decode(wire))
    case .timeoutNow:
      return .timeoutNow
    case .readIndex(let wire):
      return .readIndex(context: [UInt8](wire.context))
    case .readIndexResponse(let wire):
      return .readIndexResponse(context: [UInt8](wire.context), index: wire.index)
    case .transferLeader(let wire):
      return .transferLeader(target: try peer(wire.target, "transfer_leader.target"))
    }
  }

  private static func decode(_ wire: RaftWireAppend) throws(RaftRPCError) -> AppendRequest {
    let previous = decode(wire.previous)
    var entries: [LogEntry] = []
    entries.reserveCapacity(wire.entries.count)
    var expected = previous
    for wireEntry in wire.entries {
      let (index, overflow) = expected.index.addingReportingOverflow(1)
      guard !overflow, wireEntry.index == index else {
        throw invalid(
          "append entry index \(wireEntry.index) does not follow \(expected.index) "
            + "(entries must be consecutive after previous \(previous))")
      }
      guard wireEntry.term >= expected.term, wireEntry.term > 0 else {
        throw invalid(
          "append entry \(wireEntry.index) has term \(wireEntry.term), below the term "
            + "\(expected.term) before it or 0")
      }
      entries.append(try decode(wireEntry))
      expected = TermIndex(term: wireEntry.term, index: wireEntry.index)
    }
    return AppendRequest(previous: previous, entries: entries, commit: wire.commit)
  }

  private static func decode(_ wire: RaftWireEntry) throws(RaftRPCError) -> LogEntry {
    guard wire.index > 0, wire.term > 0 else {
      throw invalid("entry \(wire.term)/\(wire.index): term and index must be at least 1")
    }
    let kind: EntryKind
    switch wire.kind {
    case .normal: kind = .normal
    case .membershipChange: kind = .membershipChange
    case .unspecified, .UNRECOGNIZED:
      throw invalid("entry \(wire.term)/\(wire.index) has entry kind \(wire.kind.rawValue)")
    }
    return LogEntry(term: wire.term, index: wire.index, kind: kind, data: [UInt8](wire.data))
  }

  private static func decode(_ wire: RaftWireSnapshotNotice) throws(RaftRPCError)
    -> SnapshotNoticeRequest
  {
    let leaderSnapshot = decode(wire.leaderSnapshot)
    guard let first = wire.membershipHistory.first else {
      throw invalid("a snapshot notice has an empty membership history")
    }
    guard first.index <= leaderSnapshot.index else {
      throw invalid(
        "a snapshot notice's membership history starts at \(first.index), after the "
          + "compaction point \(leaderSnapshot.index)")
    }
    var history: [MembershipRecord] = []
    history.reserveCapacity(wire.membershipHistory.count)
    for record in wire.membershipHistory {
      if let last = history.last, record.index <= last.index {
        throw invalid(
          "a snapshot notice's membership history goes from index \(last.index) to "
            + "\(record.index); it must ascend")
      }
      history.append(
        MembershipRecord(index: record.index, membership: try decode(record.membership)))
    }
    return SnapshotNoticeRequest(leaderSnapshot: leaderSnapshot, membershipHistory: history)
  }

  private static func decode(_ wire: RaftWireMembership) throws(RaftRPCError) -> Membership {
    var seen = Set<UInt64>()
    for raw in wire.voters + wire.learners {
      guard raw != 0 else { throw invalid("a membership lists peer 0") }
      guard seen.insert(raw).inserted else {
        throw invalid("a membership lists peer \(raw) twice")
      }
    }
    return Membership(
      voters: wire.voters.map { PeerID($0) }, learners: wire.learners.map { PeerID($0) })
  }

  private static func decode(_ wire: RaftWireSnapshotStatus) throws(RaftRPCError)
    -> SnapshotInstallStatus
  {
    switch wire.state {
    case .installed: return .installed(decode(wire.installed))
    case .inProgress: return .inProgress
    case .failed: return .failed
    case .unspecified, .UNRECOGNIZED:
      throw invalid("a snapshot status has state \(wire.state.rawValue)")
    }
  }

  private static func decode(_ wire: RaftWireTermIndex) -> TermIndex {
    TermIndex(term: wire.term, index: wire.index)
  }

  private static func peer(_ raw: UInt64, _ field: String) throws(RaftRPCError) -> PeerID {
    guard raw != 0 else { throw invalid("\(field) is peer 0, which names nobody") }
    return PeerID(raw)
  }

  private static func invalid(_ message: String) -> RaftRPCError {
    RaftRPCError(.invalidMessage, message)
  }
}
