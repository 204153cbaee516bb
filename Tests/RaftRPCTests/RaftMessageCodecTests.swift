import NIOCore
import RaftCore
import RaftProto
import O3TestSupport
import Testing

@testable import RaftRPC

/// RaftMessage <-> raft.proto: lossless for every kind, and refusing (never crashing on) bad input.
@Suite(.watchdog) struct RaftMessageCodecTests {
  @Test(arguments: 0..<RandomRaftMessages.kindCount)
  func everyMessageKindSurvivesSerializationUnchanged(kind: Int) throws {
    var generator = RandomRaftMessages(seed: 1000 + UInt64(kind))
    for _ in 0..<300 {
      let message = generator.message(kind: kind)
      let bytes = RaftMessageCodec.serialize(message)
      let parsed = try RaftWireMessage(serializedBytes: bytes)
      #expect(try RaftMessageCodec.decode(parsed) == message)
    }
  }

  @Test func generatorCoversEveryBodyKind() {
    var generator = RandomRaftMessages(seed: 7)
    let kinds = Set(
      (0..<RandomRaftMessages.kindCount).map { generator.message(kind: $0).body.kindName })
    #expect(kinds.count == RandomRaftMessages.kindCount)
  }

  @Test func batchOfMixedMessagesSurvivesInOrder() throws {
    var generator = RandomRaftMessages(seed: 42)
    let messages = (0..<500).map { _ in generator.message() }
    let decoded = try RaftMessageCodec.decodeBatch(RaftMessageCodec.encodeBatch(messages))
    #expect(decoded == messages)
    #expect(try RaftMessageCodec.decodeBatch(RaftMessageCodec.encodeBatch([])) == [])
  }

  /// Each case breaks one rule RaftCore's initialisers would stop the process for, or one the
  /// core relies on; decoding must refuse it with `invalidMessage` and name the problem.
  @Test(arguments: InvalidCase.allCases)
  func invalidMessagesAreRefusedWithAClearError(_ invalid: InvalidCase) throws {
    var wire = RaftMessageCodec.encode(validAppend())
    invalid.apply(to: &wire)
    let error = #expect(throws: RaftRPCError.self) { try RaftMessageCodec.decode(wire) }
    #expect(error?.code == .invalidMessage)
    #expect(error?.message.contains(invalid.expectedWords) == true, "\(error?.message ?? "")")

    var batch = RaftWireBatch()
    batch.messages = [RaftMessageCodec.encode(validAppend()), wire]
    let batchError = #expect(throws: RaftRPCError.self) {
      try RaftMessageCodec.decodeBatch(ByteBuffer(bytes: RaftMessageCodec.serialize(batch)))
    }
    #expect(batchError?.code == .invalidMessage)
    #expect(batchError?.message.hasPrefix("message 1 of the batch") == true)
  }

  @Test func bytesThatAreNotABatchAreRefusedAsMalformed() {
    // Field 1 announced as 100 bytes long, followed by 3.
    let truncated = ByteBuffer(bytes: [0x0A, 100, 1, 2, 3])
    let error = #expect(throws: RaftRPCError.self) { try RaftMessageCodec.decodeBatch(truncated) }
    #expect(error?.code == .malformedBatch)
    #expect(error?.message.contains("5 bytes") == true)
  }

  @Test func randomGarbageNeverCrashesTheDecoder() {
    var random = SplitMix64Random(seed: 99)
    var refusals = 0
    for _ in 0..<5000 {
      let length = random.next(upperBound: 200)
      let bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: random.nextBits()) }
      do {
        _ = try RaftMessageCodec.decodeBatch(ByteBuffer(bytes: bytes))
      } catch {
        #expect(error.code == .malformedBatch || error.code == .invalidMessage)
        refusals += 1
      }
    }
    #expect(refusals > 4000)
  }

  /// Mutations of a valid AppendEntries from 1 to 2 with entries 5/11 and 5/12 after 4/10.
  enum InvalidCase: CaseIterable, Sendable, CustomTestStringConvertible {
    case senderIsPeerZero, receiverIsPeerZero, noBody, entryIndexGap, entryTermGoesDown
    case entryTermZero, unknownEntryKind, emptyMembershipHistory, historyAfterCompactionPoint
    case historyNotAscending, membershipListsPeerTwice, membershipListsPeerZero
    case unknownSnapshotState, transferToPeerZero

    var testDescription: String { "\(self)" }

    var expectedWords: String {
      switch self {
      case .senderIsPeerZero: "from is peer 0"
      case .receiverIsPeerZero: "to is peer 0"
      case .noBody: "has no body"
      case .entryIndexGap: "does not follow"
      case .entryTermGoesDown, .entryTermZero: "has term"
      case .unknownEntryKind: "entry kind 7"
      case .emptyMembershipHistory: "empty membership history"
      case .historyAfterCompactionPoint: "after the compaction point"
      case .historyNotAscending: "must ascend"
      case .membershipListsPeerTwice: "peer 3 twice"
      case .membershipListsPeerZero: "lists peer 0"
      case .unknownSnapshotState: "state 9"
      case .transferToPeerZero: "transfer_leader.target is peer 0"
      }
    }

    func apply(to wire: inout RaftWireMessage) {
      switch self {
      case .senderIsPeerZero: wire.from = 0
      case .receiverIsPeerZero: wire.to = 0
      case .noBody: wire.body = nil
      case .entryIndexGap: wire.append.entries[1].index = 13
      case .entryTermGoesDown: wire.append.entries[1].term = 4
      case .entryTermZero:
        wire.append.previous.term = 0
        wire.append.entries[0].term = 0
      case .unknownEntryKind: wire.append.entries[1].kind = .UNRECOGNIZED(7)
      case .emptyMembershipHistory: wire.body = .snapshotNotice(notice(history: []))
      case .historyAfterCompactionPoint:
        wire.body = .snapshotNotice(notice(history: [(21, [1, 2])]))
      case .historyNotAscending:
        wire.body = .snapshotNotice(notice(history: [(20, [1, 2]), (20, [1, 2, 3])]))
      case .membershipListsPeerTwice:
        wire.body = .snapshotNotice(notice(history: [(20, [1, 3, 3])]))
      case .membershipListsPeerZero:
        wire.body = .snapshotNotice(notice(history: [(20, [0, 1])]))
      case .unknownSnapshotState:
        var status = RaftWireSnapshotStatus()
        status.state = .UNRECOGNIZED(9)
        wire.body = .snapshotStatus(status)
      case .transferToPeerZero:
        wire.body = .transferLeader(RaftWireTransferLeader())
      }
    }

    /// A snapshot notice at compaction point 3/20 with the given (index, voters) history.
    private func notice(history: [(UInt64, [UInt64])]) -> RaftWireSnapshotNotice {
      var notice = RaftWireSnapshotNotice()
      notice.leaderSnapshot.term = 3
      notice.leaderSnapshot.index = 20
      notice.membershipHistory = history.map { index, voters in
        var record = RaftWireMembershipRecord()
        record.index = index
        record.membership.voters = voters
        return record
      }
      return notice
    }
  }
}

private func validAppend() -> RaftMessage {
  RaftMessage(
    from: 1, to: 2, term: 5,
    body: .append(
      AppendRequest(
        previous: TermIndex(term: 4, index: 10),
        entries: [
          LogEntry(term: 5, index: 11, data: [1, 2, 3]),
          LogEntry(term: 5, index: 12, kind: .membershipChange, data: [4]),
        ],
        commit: 9)))
}
