import NIOCore
import Raft
import RaftCore
import RaftProto

/// One "raft.messages" payload ready to send.
struct OutboundBatch {
  var payload: ByteBuffer
  var messageCount: Int

  var bytes: Int { payload.readableBytes }
}

/// Packs one peer's outgoing messages, in order, into payloads of at most `batchBytesMax` bytes,
/// splitting AppendEntries that do not fit and refusing what cannot be made to fit.
///
/// A batch is a raft.proto `Batch`, whose encoding is the concatenation of its messages each
/// behind a field tag and a length. The encoder serializes every message once and concatenates
/// those pieces itself, so it knows each message's exact size before choosing its batch.
///
/// Splitting is valid Raft: the parts carry consecutive entry ranges, each part's `previous` is
/// the last entry of the part before, and every part carries the original commit index (a
/// follower commits at most up to the last entry it has matched).
///
/// Every message is labelled with the group it was sent for, parts of a split included; the
/// size estimates serialize the labelled message, so they count the label's bytes too.
struct RaftBatchEncoder {
  let batchBytesMax: Int

  /// Messages that could not be sent, with a sentence for the log.
  struct Refusal {
    var messageCount: Int
    var reason: RaftRPCDropReason
    var explanation: String
  }

  /// The batches to send and whatever had to be refused.
  struct Output {
    var batches: [OutboundBatch] = []
    var refusals: [Refusal] = []
    var appendsSplit = 0
  }

  /// Field 1 (`Batch.messages`), wire type 2 (length-delimited).
  private static let messagesFieldTag: UInt8 = 0x0A

  /// How much a nested length prefix can grow once entries are added to an empty Append
  /// (a varint takes at most 10 bytes, an empty one at least 1).
  private static let nestedLengthSlackBytes = 9

  /// Packs `messages`, all of `group`, in order.
  func encode(_ messages: [RaftMessage], group: RaftGroupID = .default) -> Output {
    var output = Output()
    var packer = Packer(batchBytesMax: batchBytesMax)
    for message in messages {
      let bytes = RaftMessageCodec.serialize(message, group: group)
      if Self.elementBytes(messageBytes: bytes.count) <= batchBytesMax {
        packer.add(bytes, into: &output)
      } else if case .append(let request) = message.body, request.entries.count > 1 {
        output.appendsSplit += 1
        split(message, request, group: group, into: &output, packer: &packer)
      } else {
        output.refusals.append(
          Refusal(
            messageCount: 1, reason: .messageTooLarge,
            explanation: "\(summary(of: message)) encodes to \(bytes.count) bytes, more than the "
              + "batch limit of \(batchBytesMax) bytes "
              + "(ozone.om.ratis.log.appender.queue.byte-limit)"))
      }
    }
    packer.finish(into: &output)
    return output
  }

  /// Sends `request`'s entries as several AppendEntries, each as large as the limit allows.
  private func split(
    _ message: RaftMessage, _ request: AppendRequest, group: RaftGroupID, into output: inout Output,
    packer: inout Packer
  ) {
    let shellBytes = appendShellBytes(message, request, group: group)
    var previous = request.previous
    var start = 0
    while start < request.entries.count {
      var messageBytes = shellBytes
      var end = start
      while end < request.entries.count {
        let entryBytes = Self.entryFieldBytes(request.entries[end])
        guard Self.elementBytes(messageBytes: messageBytes + entryBytes) <= batchBytesMax else {
          break
        }
        messageBytes += entryBytes
        end += 1
      }
      guard end > start else {
        refuseOversizedEntry(message, request, at: start, into: &output)
        return
      }
      let entries = Array(request.entries[start..<end])
      var part = message
      part.body = .append(
        AppendRequest(previous: previous, entries: entries, commit: request.commit))
      let bytes = RaftMessageCodec.serialize(part, group: group)
      precondition(
        Self.elementBytes(messageBytes: bytes.count) <= batchBytesMax,
        "a split AppendEntries of \(bytes.count) bytes exceeds the estimate it was cut by")
      packer.add(bytes, into: &output)
      previous = entries.last!.termIndex
      start = end
    }
  }

  /// The encoded size of `message` with no entries, with `previous` at its largest possible value
  /// for any part and room for the nested lengths to grow: an upper bound for every part's
  /// bytes other than its entries.
  private func appendShellBytes(_ message: RaftMessage, _ request: AppendRequest, group: RaftGroupID) -> Int {
    let largestTerm = request.entries.reduce(request.previous.term) { max($0, $1.term) }
    let largestIndex = request.entries.reduce(request.previous.index) { max($0, $1.index) }
    var shell = message
    shell.body = .append(
      AppendRequest(
        previous: TermIndex(term: largestTerm, index: largestIndex), entries: [],
        commit: request.commit))
    return RaftMessageCodec.serialize(shell, group: group).count + Self.nestedLengthSlackBytes
  }

  private func refuseOversizedEntry(
    _ message: RaftMessage, _ request: AppendRequest, at position: Int, into output: inout Output
  ) {
    let entry = request.entries[position]
    output.refusals.append(
      Refusal(
        messageCount: 1, reason: .messageTooLarge,
        explanation: "entry \(entry.termIndex) of \(entry.data.count) bytes in an AppendEntries "
          + "from \(message.from) to \(message.to) does not fit the batch limit of "
          + "\(batchBytesMax) bytes (ozone.om.ratis.log.appender.queue.byte-limit); it and the "
          + "\(request.entries.count - position - 1) entries after it were not sent"))
  }

  private func summary(of message: RaftMessage) -> String {
    switch message.body {
    case .append(let request):
      "an AppendEntries from \(message.from) to \(message.to) with \(request.entries.count) entry"
    default:
      "a \(message.body.kindName) message from \(message.from) to \(message.to)"
    }
  }

  /// Bytes an entry adds to an Append: its field tag, its length and itself.
  private static func entryFieldBytes(_ entry: LogEntry) -> Int {
    let entryBytes = RaftMessageCodec.serialize(RaftMessageCodec.encode(entry)).count
    return 1 + varintBytes(entryBytes) + entryBytes
  }

  /// Bytes a message of `messageBytes` takes inside a batch: its field tag, its length, itself.
  static func elementBytes(messageBytes: Int) -> Int {
    1 + varintBytes(messageBytes) + messageBytes
  }

  static func varintBytes(_ value: Int) -> Int {
    precondition(value >= 0, "a length is never negative")
    var remaining = UInt64(value) >> 7
    var bytes = 1
    while remaining > 0 {
      remaining >>= 7
      bytes += 1
    }
    return bytes
  }

  /// Accumulates serialized messages into the current batch and closes it when the next one
  /// would not fit.
  private struct Packer {
    let batchBytesMax: Int
    var current = ByteBuffer()
    var currentCount = 0

    mutating func add(_ messageBytes: [UInt8], into output: inout Output) {
      let elementBytes = RaftBatchEncoder.elementBytes(messageBytes: messageBytes.count)
      if current.readableBytes + elementBytes > batchBytesMax {
        finish(into: &output)
      }
      current.writeInteger(RaftBatchEncoder.messagesFieldTag)
      writeVarint(messageBytes.count)
      current.writeBytes(messageBytes)
      currentCount += 1
    }

    mutating func finish(into output: inout Output) {
      guard currentCount > 0 else { return }
      output.batches.append(OutboundBatch(payload: current, messageCount: currentCount))
      current = ByteBuffer()
      currentCount = 0
    }

    private mutating func writeVarint(_ value: Int) {
      var remaining = UInt64(value)
      while remaining >= 0x80 {
        current.writeInteger(UInt8(truncatingIfNeeded: remaining) | 0x80)
        remaining >>= 7
      }
      current.writeInteger(UInt8(remaining))
    }
  }
}

extension RaftMessage.Body {
  /// The kind of message, for logs (the body itself may hold megabytes).
  var kindName: String {
    switch self {
    case .preVote: "pre-vote"
    case .preVoteResponse: "pre-vote response"
    case .vote: "vote"
    case .voteResponse: "vote response"
    case .append: "AppendEntries"
    case .appendResponse: "AppendEntries response"
    case .heartbeat: "heartbeat"
    case .heartbeatResponse: "heartbeat response"
    case .snapshotNotice: "snapshot notice"
    case .snapshotStatus: "snapshot status"
    case .timeoutNow: "TimeoutNow"
    case .readIndex: "ReadIndex"
    case .readIndexResponse: "ReadIndex response"
    case .transferLeader: "transfer-leader"
    }
  }
}
