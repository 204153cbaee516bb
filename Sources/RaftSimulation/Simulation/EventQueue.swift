/// A priority queue of events by virtual time; events at the same time come out in the order
/// they were scheduled, so a run never depends on how the heap breaks ties.
struct EventQueue<Event> {
  private struct Scheduled {
    var time: UInt64
    var sequence: UInt64
    var event: Event

    func precedes(_ other: Scheduled) -> Bool {
      (time, sequence) < (other.time, other.sequence)
    }
  }

  private var heap: [Scheduled] = []
  private var nextSequence: UInt64 = 0

  var count: Int { heap.count }
  var isEmpty: Bool { heap.isEmpty }

  /// The time of the earliest event, if any.
  var nextTime: UInt64? { heap.first?.time }

  mutating func schedule(_ event: Event, at time: UInt64) {
    heap.append(Scheduled(time: time, sequence: nextSequence, event: event))
    nextSequence += 1
    siftUp(from: heap.count - 1)
  }

  /// Removes and returns the earliest event.
  mutating func pop() -> (time: UInt64, event: Event)? {
    guard !heap.isEmpty else { return nil }
    heap.swapAt(0, heap.count - 1)
    let earliest = heap.removeLast()
    if !heap.isEmpty { siftDown(from: 0) }
    return (earliest.time, earliest.event)
  }

  private mutating func siftUp(from start: Int) {
    var child = start
    while child > 0 {
      let parent = (child - 1) / 2
      guard heap[child].precedes(heap[parent]) else { return }
      heap.swapAt(child, parent)
      child = parent
    }
  }

  private mutating func siftDown(from start: Int) {
    var parent = start
    while true {
      let left = 2 * parent + 1
      let right = left + 1
      var smallest = parent
      if left < heap.count && heap[left].precedes(heap[smallest]) { smallest = left }
      if right < heap.count && heap[right].precedes(heap[smallest]) { smallest = right }
      guard smallest != parent else { return }
      heap.swapAt(parent, smallest)
      parent = smallest
    }
  }
}
