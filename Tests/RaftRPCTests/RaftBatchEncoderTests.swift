import O3TestSupport
import NIOCore
import Raft
import RaftCore
import Testing

@testable import RaftRPC

/// Packing messages into batches under the byte limit, and splitting AppendEntries that exceed it.
@Suite(.watchdog) struct RaftBatchEncoderTests {
  @Test(arguments: [2048, 4096, 20_000])
  func batchesStayUnderTheLimitAndKeepEveryMessageInOrder(limit: Int) throws {
    var generator = RandomRaftMessages(seed: UInt64(limit))
    let messages = (0..<400).map { _ in generator.message() }
    let output = RaftBatchEncoder(batchBytesMax: limit).encode(messages)
    #expect(output.refusals.isEmpty)
    #expect(output.appendsSplit == 0)
    #expect(output.batches.count > 1)
    for batch in output.batches {
      #expect(batch.bytes <= limit)
    }
    let decoded = try output.batches.flatMap { try RaftMessageCodec.decodeBatch($0.payload) }
    #expect(decoded == messages)
    #expect(output.batches.map(\.messageCount).reduce(0, +) == messages.count)
  }

  @Test func batchIsExactlyTheProtobufEncodingOfItsMessages() {
    var generator = RandomRaftMessages(seed: 5)
    let messages = (0..<50).map { _ in generator.message() }
    let output = RaftBatchEncoder(batchBytesMax: 1 << 20).encode(messages)
    #expect(output.batches.count == 1)
    #expect(output.batches.first?.payload == RaftMessageCodec.encodeBatch(messages))
  }

  @Test(arguments: [(1024, 40), (4096, 200), (8192, 30)])
  func appendOverTheLimitIsSplitIntoChainedParts(limit: Int, entryCount: Int) throws {
    var generator = RandomRaftMessages(seed: UInt64(limit + entryCount))
    let request = generator.append(entryCount: entryCount, dataBytesMax: 700)
    let original = RaftMessage(from: 1, to: 2, term: 9, body: .append(request))
    let heartbeat = numberedHeartbeat(from: 1, to: 2, 77)
    let output = RaftBatchEncoder(batchBytesMax: limit).encode([original, heartbeat])

    #expect(output.refusals.isEmpty)
    #expect(output.appendsSplit == 1)
    for batch in output.batches {
      #expect(batch.bytes <= limit)
    }
    let decoded = try output.batches.flatMap { try RaftMessageCodec.decodeBatch($0.payload) }
    #expect(decoded.last == heartbeat)
    let parts = try appendParts(decoded.dropLast())
    #expect(parts.count > 1)
    try expectChained(parts, reassembling: request)
  }

  /// The parts of a split AppendEntries are each labelled with the group of the original, and
  /// still fit the limit although the label adds 18 bytes to each.
  @Test func everyPartOfASplitAppendKeepsItsGroup() throws {
    let group = RaftGroupID(high: 0x6f33_6b76_0000_0000, low: 7)
    var generator = RandomRaftMessages(seed: 31)
    let request = generator.append(entryCount: 80, dataBytesMax: 700)
    let original = RaftMessage(from: 1, to: 2, term: 9, body: .append(request))
    let limit = 2048
    let output = RaftBatchEncoder(batchBytesMax: limit).encode([original], group: group)
    #expect(output.refusals.isEmpty)
    #expect(output.appendsSplit == 1)
    #expect(output.batches.count > 1)
    var parts: [RaftMessage] = []
    for batch in output.batches {
      #expect(batch.bytes <= limit)
      let runs = try RaftMessageCodec.decodeGroupedBatch(batch.payload)
      #expect(runs.map(\.group) == [group])
      parts += runs.flatMap(\.messages)
    }
    try expectChained(try appendParts(parts[...]), reassembling: request)
  }

  @Test func entryLargerThanTheLimitIsRefusedWithTheEntriesAfterIt() throws {
    let entries = [
      LogEntry(term: 2, index: 6, data: [UInt8](repeating: 1, count: 300)),
      LogEntry(term: 2, index: 7, data: [UInt8](repeating: 2, count: 300)),
      LogEntry(term: 2, index: 8, data: [UInt8](repeating: 3, count: 5000)),
      LogEntry(term: 2, index: 9, data: [UInt8](repeating: 4, count: 10)),
    ]
    let request = AppendRequest(previous: TermIndex(term: 1, index: 5), entries: entries, commit: 4)
    let output = RaftBatchEncoder(batchBytesMax: 1024).encode(
      [RaftMessage(from: 1, to: 2, term: 2, body: .append(request))])

    #expect(output.refusals.count == 1)
    #expect(output.refusals.first?.reason == .messageTooLarge)
    #expect(output.refusals.first?.explanation.contains("entry 2/8 of 5000 bytes") == true)
    #expect(output.refusals.first?.explanation.contains("1 entries after it") == true)
    let decoded = try output.batches.flatMap { try RaftMessageCodec.decodeBatch($0.payload) }
    let sent = try appendParts(decoded[...]).flatMap(\.entries)
    #expect(sent == Array(entries[0..<2]))
  }

  @Test func otherMessageLargerThanTheLimitIsRefused() {
    let huge = RaftMessage(
      from: 1, to: 2, term: 1, body: .readIndex(context: [UInt8](repeating: 7, count: 2000)))
    let small = numberedHeartbeat(from: 1, to: 2, 1)
    let output = RaftBatchEncoder(batchBytesMax: 1024).encode([huge, small])
    #expect(output.refusals.map(\.reason) == [.messageTooLarge])
    #expect(output.refusals.first?.explanation.contains("ReadIndex message") == true)
    #expect(output.batches.map(\.messageCount) == [1])
  }

  @Test func varintLengthsMatchProtobuf() {
    let cases: [(Int, Int)] = [(0, 1), (127, 1), (128, 2), (16_383, 2), (16_384, 3), (1 << 28, 5)]
    for (value, bytes) in cases {
      #expect(RaftBatchEncoder.varintBytes(value) == bytes, "\(value)")
    }
  }
}

/// The AppendEntries bodies of `messages`, failing the test on anything else.
func appendParts(_ messages: ArraySlice<RaftMessage>) throws -> [AppendRequest] {
  try messages.map { message in
    guard case .append(let request) = message.body else {
      Issue.record("expected an AppendEntries, got \(message)")
      throw TimedOut("an AppendEntries")
    }
    return request
  }
}

/// Checks that `parts` are a valid split of `original`: entries concatenate to the original's,
/// each part's `previous` is the last entry before it, and every part has the original commit.
func expectChained(
  _ parts: [AppendRequest], reassembling original: AppendRequest,
  sourceLocation: SourceLocation = #_sourceLocation
) throws {
  #expect(parts.flatMap(\.entries) == original.entries, sourceLocation: sourceLocation)
  var previous = original.previous
  for part in parts {
    #expect(part.previous == previous, sourceLocation: sourceLocation)
    #expect(part.commit == original.commit, sourceLocation: sourceLocation)
    #expect(!part.entries.isEmpty, sourceLocation: sourceLocation)
    previous = try #require(part.entries.last).termIndex
  }
}
