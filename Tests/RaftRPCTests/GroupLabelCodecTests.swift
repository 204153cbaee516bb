import Foundation
import NIOCore
import O3TestSupport
import Raft
import RaftCore
import RaftProto
import Testing

@testable import RaftRPC

/// The group label on each message (raft.proto `Message.group`): absent for the default group, so
/// a single-group server's bytes are what they were before groups; 16 bytes otherwise; anything
/// else refused.
@Suite(.watchdog) struct GroupLabelCodecTests {
  /// A heartbeat from 1 to 2 in term 3 with commit 4 and read round 5.
  private let heartbeat = RaftMessage(from: 1, to: 2, term: 3, body: .heartbeat(commit: 4, readRound: 5))
  /// `6f336b76-0000-0000-0000-000000000001`.
  private let named = RaftGroupID(high: 0x6f33_6b76_0000_0000, low: 1)

  /// Written out by hand from the protobuf encoding rules, so that no code change can move it:
  /// Batch field 1 (0x0A) of 13 bytes, holding from=1 (08 01), to=2 (10 02), term=3 (18 03) and
  /// the heartbeat, field 16 (82 01) of 4 bytes: commit=4 (08 04), read_round=5 (10 05).
  @Test func aDefaultGroupBatchIsByteForByteTheEncodingBeforeGroups() {
    let golden: [UInt8] = [
      0x0A, 0x0D, 0x08, 0x01, 0x10, 0x02, 0x18, 0x03, 0x82, 0x01, 0x04, 0x08, 0x04, 0x10, 0x05,
    ]
    #expect(Array(buffer: RaftMessageCodec.encodeBatch([heartbeat])) == golden)
    #expect(Array(buffer: RaftMessageCodec.encodeBatch([heartbeat], group: .default)) == golden)
    let packed = RaftBatchEncoder(batchBytesMax: 4096).encode([heartbeat], group: .default)
    #expect(packed.batches.map { Array(buffer: $0.payload) } == [golden])
  }

  /// The same heartbeat in a named group: field 4 (0x22) of 16 bytes sits between the term and
  /// the body, and the message grows by those 18 bytes to 31 (0x1F).
  @Test func aNamedGroupAddsItsSixteenBytesAsFieldFour() {
    let golden: [UInt8] =
      [0x0A, 0x1F, 0x08, 0x01, 0x10, 0x02, 0x18, 0x03, 0x22, 0x10]
      + [0x6F, 0x33, 0x6B, 0x76, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01]
      + [0x82, 0x01, 0x04, 0x08, 0x04, 0x10, 0x05]
    #expect(Array(buffer: RaftMessageCodec.encodeBatch([heartbeat], group: named)) == golden)
  }

  @Test func groupsSurviveABatchThatInterleavesThemInOrderPerGroup() throws {
    let groups = [RaftGroupID.default, named, RaftGroupID(UUID())]
    var generator = RandomRaftMessages(seed: 11)
    var random = SplitMix64Random(seed: 12)
    var labelled: [(RaftGroupID, RaftMessage)] = []
    for _ in 0..<300 {
      labelled.append((groups[random.next(upperBound: groups.count)], generator.message()))
    }
    var batch = RaftWireBatch()
    batch.messages = labelled.map { RaftMessageCodec.encode($0.1, group: $0.0) }
    let payload = ByteBuffer(bytes: RaftMessageCodec.serialize(batch))

    let runs = try RaftMessageCodec.decodeGroupedBatch(payload)
    var firstAppearance: [RaftGroupID] = []
    for (group, _) in labelled where !firstAppearance.contains(group) {
      firstAppearance.append(group)
    }
    #expect(runs.map(\.group) == firstAppearance)
    for run in runs {
      #expect(run.messages == labelled.filter { $0.0 == run.group }.map { $0.1 }, "group \(run.group)")
    }
    #expect(try RaftMessageCodec.decodeBatch(payload) == labelled.map { $0.1 })
  }

  @Test(arguments: [1, 15, 17])
  func aGroupThatIsNeitherEmptyNorSixteenBytesIsRefused(length: Int) {
    var wire = RaftMessageCodec.encode(heartbeat, group: named)
    wire.group = Data(repeating: 7, count: length)
    var batch = RaftWireBatch()
    batch.messages = [RaftMessageCodec.encode(heartbeat), wire]
    let payload = ByteBuffer(bytes: RaftMessageCodec.serialize(batch))
    let error = #expect(throws: RaftRPCError.self) { try RaftMessageCodec.decodeGroupedBatch(payload) }
    #expect(error?.code == .invalidMessage)
    #expect(error?.message.hasPrefix("message 1 of the batch") == true, "\(error?.message ?? "")")
    #expect(error?.message.contains("group of \(length) bytes") == true, "\(error?.message ?? "")")
    #expect(throws: RaftRPCError.self) { try RaftMessageCodec.decodeBatch(payload) }
  }

  @Test func sixteenZeroBytesNameTheDefaultGroup() throws {
    var wire = RaftMessageCodec.encode(heartbeat)
    wire.group = Data(repeating: 0, count: 16)
    #expect(try RaftMessageCodec.group(of: wire) == .default)
  }
}
