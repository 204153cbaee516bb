/// The links between simulated nodes: which direction of which pair is cut, and what happens to
/// a message on a link that works (loss, duplication, delay — and so reordering).
struct SimulatedNetwork {
  /// A partition shape (FoundationDB and TigerBeetle's nemeses, plus Jepsen's bridge).
  enum PartitionShape: String, CaseIterable, Sendable {
    /// A random minority is cut off from the rest, both ways.
    case minority
    /// The current leader alone is cut off.
    case isolateLeader
    /// A random split where only one direction is cut.
    case asymmetric
    /// Two halves that each reach one bridge node but not each other.
    case bridge
    /// Nodes on a ring each reach only their two neighbours: every node sees a majority (of 4
    /// or 5), but no two see the same one (Jepsen's majorities ring).
    case majoritiesRing
    /// Every link cut: nothing moves.
    case total
  }

  /// Messages in flight on one directed link; beyond it new messages are dropped, like a full
  /// socket buffer.
  static let linkMessagesMax = 1_024

  let nodeCount: Int
  private var cut: [[Bool]]
  private var inFlight: [[Int]]
  /// Bumped by every partition and heal, so that a scheduled heal of an older one is ignored.
  private(set) var generation: UInt64 = 0
  private(set) var shape: PartitionShape?

  init(nodeCount: Int) {
    self.nodeCount = nodeCount
    cut = Array(repeating: Array(repeating: false, count: nodeCount), count: nodeCount)
    inFlight = Array(repeating: Array(repeating: 0, count: nodeCount), count: nodeCount)
  }

  func isConnected(from sender: Int, to receiver: Int) -> Bool {
    !cut[sender][receiver]
  }

  /// When copies of a message sent now arrive: none (lost, link full), one, or two (duplicated).
  mutating func plan(
    from sender: Int, to receiver: Int, options: SimulationOptions, random: inout SimulationRandom
  ) -> [UInt64] {
    guard inFlight[sender][receiver] < Self.linkMessagesMax else { return [] }
    guard !random.chance(options.messageLossPercent, in: 100) else { return [] }
    var delays = [Self.delay(options: options, random: &random)]
    if random.chance(options.messageDuplicatePercent, in: 100) {
      delays.append(Self.delay(options: options, random: &random))
    }
    inFlight[sender][receiver] += delays.count
    return delays
  }

  /// A message arrives (or would have): it frees its slot and gets through only if the link
  /// works now.
  mutating func arrive(from sender: Int, to receiver: Int) -> Bool {
    inFlight[sender][receiver] -= 1
    precondition(inFlight[sender][receiver] >= 0, "more arrivals than sends on a link")
    return isConnected(from: sender, to: receiver)
  }

  /// Cuts links in `shape`; `leader` is used by `isolateLeader`.
  mutating func partition(_ shape: PartitionShape, leader: Int?, random: inout SimulationRandom) {
    heal()
    self.shape = shape
    var nodes = Array(0..<nodeCount)
    shuffle(&nodes, random: &random)
    switch shape {
    case .minority:
      let minority = Array(nodes.prefix(random.integer(in: 1...((nodeCount - 1) / 2))))
      cutBetween(minority, nodes.filter { !minority.contains($0) }, bothWays: true)
    case .isolateLeader:
      let alone = leader ?? nodes[0]
      cutBetween([alone], nodes.filter { $0 != alone }, bothWays: true)
    case .asymmetric:
      let split = random.integer(in: 1...(nodeCount - 1))
      cutBetween(Array(nodes.prefix(split)), Array(nodes.dropFirst(split)), bothWays: false)
    case .bridge:
      // nodes[0] is the bridge: it keeps every link, the halves after it lose each other.
      let rest = nodes.dropFirst()
      let half = rest.count / 2
      cutBetween(Array(rest.prefix(half)), Array(rest.dropFirst(half)), bothWays: true)
    case .majoritiesRing:
      for (position, sender) in nodes.enumerated() {
        for (otherPosition, receiver) in nodes.enumerated() {
          let distance = abs(position - otherPosition)
          if min(distance, nodeCount - distance) > 1 { cut[sender][receiver] = true }
        }
      }
    case .total:
      for sender in 0..<nodeCount {
        for receiver in 0..<nodeCount where sender != receiver { cut[sender][receiver] = true }
      }
    }
  }

  mutating func heal() {
    generation += 1
    shape = nil
    for sender in 0..<nodeCount {
      for receiver in 0..<nodeCount { cut[sender][receiver] = false }
    }
  }

  /// Cuts `node` off from every other node, both ways.
  mutating func isolate(_ node: Int) {
    for other in 0..<nodeCount where other != node {
      cut[node][other] = true
      cut[other][node] = true
    }
  }

  private mutating func cutBetween(_ left: [Int], _ right: [Int], bothWays: Bool) {
    for sender in left {
      for receiver in right {
        cut[sender][receiver] = true
        if bothWays { cut[receiver][sender] = true }
      }
    }
  }

  private func shuffle(_ nodes: inout [Int], random: inout SimulationRandom) {
    guard nodes.count > 1 else { return }
    for position in stride(from: nodes.count - 1, to: 0, by: -1) {
      nodes.swapAt(position, random.integer(in: 0...position))
    }
  }

  private static func delay(options: SimulationOptions, random: inout SimulationRandom) -> UInt64 {
    if random.chance(options.longDelayPercent, in: 100) {
      return UInt64(random.integer(in: 1...Int(options.longDelayMaximumMicroseconds)))
    }
    let low = Int(options.messageDelayMinimumMicroseconds)
    return UInt64(random.integer(in: low...max(low, Int(options.messageDelayMaximumMicroseconds))))
  }
}
