import RaftCore
import O3TestSupport
import Testing

@testable import RaftSimulation

/// The small deterministic parts the simulator is built from.
@Suite(.watchdog, .ownThreads) struct SimulationPartsTests {
  @Test func randomIsFixedBySeedAndStaysInBounds() {
    var first = SimulationRandom(seed: 99)
    var second = SimulationRandom(seed: 99)
    let firstDraws = (0..<32).map { _ in first.next() }
    #expect(firstDraws == (0..<32).map { _ in second.next() })
    var bounded = SimulationRandom(seed: 7)
    var seen = Set<Int>()
    for _ in 0..<500 {
      let value = bounded.integer(in: 3...9)
      #expect((3...9).contains(value))
      seen.insert(value)
    }
    #expect(seen.count == 7)
  }

  @Test func eventQueueOrdersByTimeThenByScheduling() {
    var queue = EventQueue<String>()
    queue.schedule("late", at: 30)
    queue.schedule("first at 10", at: 10)
    queue.schedule("early", at: 5)
    queue.schedule("second at 10", at: 10)
    var order: [String] = []
    while let (_, event) = queue.pop() { order.append(event) }
    #expect(order == ["early", "first at 10", "second at 10", "late"])
  }

  @Test func clientCommandsRoundTripThroughEntryPayloads() {
    let inputs: [KeyValueInput] = [
      .put(key: "k1", value: "v"), .get(key: "k2"), .delete(key: ""),
      .compareAndSet(key: "k", expected: nil, new: "n"),
      .compareAndSet(key: "k", expected: "é", new: "n"),
    ]
    for (offset, input) in inputs.enumerated() {
      let command = ClientCommand(clientID: 3, operationID: UInt64(offset), input: input)
      #expect(ClientCommand(decoding: command.encoded()) == command)
    }
    #expect(ClientCommand(decoding: []) == nil)
    #expect(ClientCommand(decoding: Array(ClientCommand(
      clientID: 1, operationID: 1, input: .get(key: "k")).encoded().dropLast())) == nil)
  }

  @Test func stateMachineDigestDependsOnlyOnTheMap() {
    var first = KeyValueStateMachine(membership: .empty)
    var second = KeyValueStateMachine(membership: .empty)
    let commands: [KeyValueInput] = [
      .put(key: "a", value: "1"), .put(key: "b", value: "2"), .delete(key: "a"),
    ]
    for (offset, input) in commands.enumerated() {
      let entry = LogEntry(
        term: 1, index: UInt64(offset + 1),
        data: ClientCommand(clientID: 1, operationID: UInt64(offset), input: input).encoded())
      _ = first.apply(entry)
    }
    _ = second.apply(
      LogEntry(
        term: 1, index: 1,
        data: ClientCommand(clientID: 2, operationID: 0, input: .put(key: "b", value: "2"))
          .encoded()))
    #expect(first.values == ["b": "2"])
    #expect(first.digest == second.digest)
    #expect(first.digest != KeyValueStateMachine(membership: .empty).digest)
  }

  @Test func partitionsCutTheLinksTheirShapeNames() {
    var random = SimulationRandom(seed: 3)
    var network = SimulatedNetwork(nodeCount: 5)
    network.partition(.isolateLeader, leader: 2, random: &random)
    for other in [0, 1, 3, 4] {
      #expect(!network.isConnected(from: 2, to: other))
      #expect(!network.isConnected(from: other, to: 2))
    }
    #expect(network.isConnected(from: 0, to: 4))
    network.partition(.bridge, leader: nil, random: &random)
    let bridges = (0..<5).filter { node in
      (0..<5).allSatisfy { $0 == node || network.isConnected(from: node, to: $0) }
    }
    #expect(bridges.count == 1)
    network.partition(.majoritiesRing, leader: nil, random: &random)
    for node in 0..<5 {
      let reached = (0..<5).filter { network.isConnected(from: node, to: $0) }
      #expect(reached.count == 3)
    }
    network.heal()
    #expect((0..<5).allSatisfy { sender in
      (0..<5).allSatisfy { network.isConnected(from: sender, to: $0) }
    })
  }
}
