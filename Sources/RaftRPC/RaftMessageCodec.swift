import NIOCore
import Raft
import RaftCore
import RaftProto
import SwiftProtobuf

import struct Foundation.Data

/// The messages of one group taken from a batch, in the order the batch held them.
public struct GroupedMessages: Sendable, Equatable {
  public var group: RaftGroupID
  public var messages: [RaftMessage]

  public init(group: RaftGroupID, messages: [RaftMessage]) {
    self.group = group
    self.messages = messages
  }
}

/// Converts RaftCore's messages to and from their raft.proto form, without loss.
///
/// Encoding cannot fail. Decoding (RaftMessageCodec+Decoding.swift) refuses everything RaftCore's
/// initialisers would stop the process for, so a peer sending nonsense gets an error reply and
/// never crashes this one.
///
/// The group a message belongs to travels beside it on the wire (raft.proto `Message.group`),
/// not inside RaftCore's `RaftMessage`: the core never knows which group it is.
public enum RaftMessageCodec {
  /// The raft.proto form of `message`, labelled with `group` (the default group adds no bytes).
  public static func encode(_ message: RaftMessage, group: RaftGroupID = .default) -> RaftWireMessage {
    var wire = RaftWireMessage()
    wire.from = message.from.rawValue
    wire.to = message.to.rawValue
    wire.term = message.term
    if !group.isDefault {
      wire.group = Data(group.wireBytes)
    }
    wire.body = encode(message.body)
    return wire
  }

  /// The serialized bytes of `message` in `group`, as one element of a batch carries them.
  static func serialize(_ message: RaftMessage, group: RaftGroupID = .default) -> [UInt8] {
    serialize(encode(message, group: group))
  }

  /// The serialized bytes of a raft.proto message.
  static func serialize(_ wire: some SwiftProtobuf.Message) -> [UInt8] {
    do {
      return try wire.serializedBytes()
    } catch {
      // Binary encoding fails only for proto2 required fields and unresolvable Any values, and
      // raft.proto has neither.
      preconditionFailure("a raft.proto message failed to serialize: \(error)")
    }
  }

  /// A complete "raft.messages" payload holding `messages` in order, without any size limit
  /// (the transport packs batches with ``RaftBatchEncoder``, which honours the limit).
  public static func encodeBatch(_ messages: [RaftMessage], group: RaftGroupID = .default) -> ByteBuffer {
    var batch = RaftWireBatch()
    batch.messages = messages.map { encode($0, group: group) }
    return ByteBuffer(bytes: serialize(batch))
  }

  private static func encode(_ body: RaftMessage.Body) -> RaftWireMessage.OneOf_Body {
    switch body {
    case .preVote(let lastLog):
      var wire = RaftWirePreVote()
      wire.lastLog = encode(lastLog)
      return .preVote(wire)
    case .preVoteResponse(let granted):
      var wire = RaftWirePreVoteResponse()
      wire.granted = granted
      return .preVoteResponse(wire)
    case .vote(let lastLog, let leadershipTransfer):
      var wire = RaftWireVote()
      wire.lastLog = encode(lastLog)
      wire.leadershipTransfer = leadershipTransfer
      return .vote(wire)
    case .voteResponse(let granted):
      var wire = RaftWireVoteResponse()
      wire.granted = granted
      return .voteResponse(wire)
    case .append(let request):
      return .append(encode(request))
    case .appendResponse(let response):
      var wire = RaftWireAppendResponse()
      wire.index = response.index
      wire.rejected = response.rejected
      wire.hint = encode(response.hint)
      return .appendResponse(wire)
    case .heartbeat(let commit, let readRound):
      var wire = RaftWireHeartbeat()
      wire.commit = commit
      wire.readRound = readRound
      return .heartbeat(wire)
    case .heartbeatResponse(let readRound):
      var wire = RaftWireHeartbeatResponse()
      wire.readRound = readRound
      return .heartbeatResponse(wire)
    case .snapshotNotice(let notice):
      var wire = RaftWireSnapshotNotice()
      wire.leaderSnapshot = encode(notice.leaderSnapshot)
      wire.membershipHistory = notice.membershipHistory.map(encode)
      return .snapshotNotice(wire)
    case .snapshotStatus(let status):
      return .snapshotStatus(encode(status))
    case .timeoutNow:
      return .timeoutNow(RaftWireTimeoutNow())
    case .readIndex(let context):
      var wire = RaftWireReadIndex()
      wire.context = Data(context)
      return .readIndex(wire)
    case .readIndexResponse(let context, let index):
      var wire = RaftWireReadIndexResponse()
      wire.context = Data(context)
      wire.index = index
      return .readIndexResponse(wire)
    case .transferLeader(let target):
      var wire = RaftWireTransferLeader()
      wire.target = target.rawValue
      return .transferLeader(wire)
    }
  }

  static func encode(_ request: AppendRequest) -> RaftWireAppend {
    var wire = RaftWireAppend()
    wire.previous = encode(request.previous)
    wire.entries = request.entries.map(encode)
    wire.commit = request.commit
    return wire
  }

  static func encode(_ entry: LogEntry) -> RaftWireEntry {
    var wire = RaftWireEntry()
    wire.term = entry.term
    wire.index = entry.index
    wire.kind =
      switch entry.kind {
      case .normal: .normal
      case .membershipChange: .membershipChange
      }
    wire.data = Data(entry.data)
    return wire
  }

  private static func encode(_ position: TermIndex) -> RaftWireTermIndex {
    var wire = RaftWireTermIndex()
    wire.term = position.term
    wire.index = position.index
    return wire
  }

  private static func encode(_ record: MembershipRecord) -> RaftWireMembershipRecord {
    var wire = RaftWireMembershipRecord()
    wire.index = record.index
    wire.membership.voters = record.membership.voters.map(\.rawValue)
    wire.membership.learners = record.membership.learners.map(\.rawValue)
    return wire
  }

  private static func encode(_ status: SnapshotInstallStatus) -> RaftWireSnapshotStatus {
    var wire = RaftWireSnapshotStatus()
    switch status {
    case .installed(let position):
      wire.state = .installed
      wire.installed = encode(position)
    case .inProgress:
      wire.state = .inProgress
    case .failed:
      wire.state = .failed
    }
    return wire
  }
}
