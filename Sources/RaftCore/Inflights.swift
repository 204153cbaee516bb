/// The AppendEntries messages in flight to one follower, bounded by count and by payload bytes.
///
/// A ring buffer of (last index of the message, payload bytes), oldest first. Invariant:
/// `count <= capacity` and `bytes` is the sum of the held payloads.
struct Inflights {
  private var lastIndexes: [UInt64]
  private var payloads: [Int]
  private var start = 0
  private(set) var count = 0
  private(set) var bytes = 0
  let capacity: Int
  let bytesMax: Int

  init(capacity: Int, bytesMax: Int) {
    precondition(capacity > 0 && bytesMax > 0, "inflight bounds must be positive")
    self.capacity = capacity
    self.bytesMax = bytesMax
    lastIndexes = []
    payloads = []
  }

  /// Whether no further message may be sent until some are acknowledged.
  var isFull: Bool { count == capacity || bytes >= bytesMax }

  /// Records a message whose last entry is `lastIndex`; indexes ascend.
  mutating func add(lastIndex: UInt64, payloadBytes: Int) {
    precondition(!isFull, "inflight window overflow")
    if count > 0 {
      precondition(lastIndex > lastIndexes[slot(count - 1)], "inflight indexes must ascend")
    }
    if count == lastIndexes.count {
      // Every slot is live: grow (lazily, so an idle follower costs nothing), first moving the
      // oldest message to slot 0 so that the ring stays in order.
      if start != 0 {
        lastIndexes = Array(lastIndexes[start...] + lastIndexes[..<start])
        payloads = Array(payloads[start...] + payloads[..<start])
        start = 0
      }
      lastIndexes.append(lastIndex)
      payloads.append(payloadBytes)
    } else {
      lastIndexes[slot(count)] = lastIndex
      payloads[slot(count)] = payloadBytes
    }
    count += 1
    bytes += payloadBytes
  }

  /// Forgets every message whose last index is at or below `index` (acknowledged).
  mutating func free(through index: UInt64) {
    while count > 0 && lastIndexes[start] <= index {
      bytes -= payloads[start]
      start = (start + 1) % lastIndexes.count
      count -= 1
    }
    if count == 0 { start = 0 }
  }

  /// Forgets the oldest message, so that one more may be sent (after a heartbeat answer: the
  /// follower is alive, and if the window's messages were lost, the next one is rejected and
  /// the leader falls back to probing instead of waiting forever).
  mutating func freeOldest() {
    guard count > 0 else { return }
    free(through: lastIndexes[start])
  }

  mutating func reset() {
    start = 0
    count = 0
    bytes = 0
  }

  private func slot(_ position: Int) -> Int {
    (start + position) % max(lastIndexes.count, 1)
  }
}
