import RaftCore

/// A deterministic simulation of a Raft group of OM-like replicas: N cores of RaftCore, each
/// inside the runtime's own `ReadyHandler`, on simulated disks and a simulated network, in
/// virtual time, with one seeded random source.
///
/// A run has two phases. In the safety phase, faults are injected (crashes that lose unsynced
/// writes, pauses, partitions, message loss, duplication and delay, membership changes,
/// compactions, leadership transfers) while clients run a key-value workload; every invariant
/// is checked after every event. In the liveness phase the network heals, a majority runs, and
/// the cluster must elect a leader, answer every client and converge within a bound. Finally the
/// client history must be linearizable. The same seed always gives the same run and trace hash.
///
/// An instance runs once, on the calling thread; run seeds in parallel with one instance each.
public final class Simulation {
  enum Phase: Equatable {
    case safety
    case liveness(deadline: UInt64)
    case converged
  }

  /// Operations each client must complete in the liveness phase.
  static let livenessOperationsPerClient = 3
  /// A run stops after this many events whatever happens (a storm of messages is a bug too).
  static let eventsMax = 2_000_000

  public let seed: UInt64
  public let options: SimulationOptions
  var random: SimulationRandom
  var nodes: [SimulatedNode] = []
  var network: SimulatedNetwork
  var queue = EventQueue<SimulationEvent>()
  var now: UInt64 = 0
  var oracle: SafetyOracle
  var clients: [SimulatedClient] = []
  var history = ClientHistory()
  var phase = Phase.safety
  /// Nodes kept down through the liveness phase (at most a minority of any membership).
  var downForGood: [Bool]
  var statistics = SimulationStatistics()
  /// The first violation a check inside a Ready handler's seam found, thrown when it returns.
  var seamViolation: SimulationViolation?
  private var trace = TraceHash()
  private var recentEvents: [(time: UInt64, event: SimulationEvent)] = []
  private var eventCount = 0
  private var leadersSeen: [UInt64: PeerID] = [:]
  private var hasRun = false

  public init(seed: UInt64, options: SimulationOptions? = nil) {
    self.seed = seed
    self.options = options ?? .swarm(seed: seed)
    precondition((3...5).contains(self.options.nodeCount), "the simulator runs 3 to 5 nodes")
    random = SimulationRandom(seed: seed)
    network = SimulatedNetwork(nodeCount: self.options.nodeCount)
    downForGood = Array(repeating: false, count: self.options.nodeCount)
    let voters = (1...self.options.initialVoterCount).map { PeerID(UInt64($0)) }
    let initial = Membership(voters: voters)
    for number in 1...self.options.nodeCount {
      let member = number <= self.options.initialVoterCount
      nodes.append(SimulatedNode(id: PeerID(UInt64(number)), membership: member ? initial : .empty))
    }
    // The reference state machine starts where a founding node's log starts.
    oracle = SafetyOracle(initialMembership: nodes[0].disk.live.snapshot.membership)
    clients = (1...self.options.clientCount).map { SimulatedClient(id: UInt64($0)) }
  }

  /// Runs the simulation to the end of the liveness phase, or to the first violation.
  public func run() -> SimulationReport {
    precondition(!hasRun, "a Simulation runs once; create another for another run")
    hasRun = true
    return SimulationCrashReporter.running(seed: seed) { runPhases() }
  }

  private func runPhases() -> SimulationReport {
    do throws(SimulationViolation) {
      try start()
      while let (time, event) = queue.pop() {
        now = time
        record(event)
        try handle(event)
        try observeLeaders()
        if phase == .converged { break }
        guard eventCount < Self.eventsMax else {
          throw SimulationViolation(.liveness, "more than \(Self.eventsMax) events")
        }
      }
      try checkHistory()
      return report(failure: nil)
    } catch {
      return report(failure: failure(error))
    }
  }

  private func start() throws(SimulationViolation) {
    for index in nodes.indices {
      try startNode(index)
    }
    for client in clients.indices {
      queue.schedule(.clientStart(client: client), at: random.below(options.tickMicroseconds * 5))
    }
    queue.schedule(.fault, at: options.tickMicroseconds * UInt64(options.faultIntervalTicks))
    queue.schedule(.livenessStart, at: options.tickMicroseconds * UInt64(options.safetyPhaseTicks))
  }

  private func handle(_ event: SimulationEvent) throws(SimulationViolation) {
    switch event {
    case .tick(let node, let incarnation): try tick(node, incarnation: incarnation)
    case .deliver(let message): try deliver(message)
    case .fsyncDone(let node, let incarnation): try fsyncDone(node, incarnation: incarnation)
    case .restart(let node): try restartIfDown(node)
    case .resume(let node): try resume(node)
    case .heal(let generation):
      if generation == network.generation && phase == .safety { network.heal() }
    case .fault: try injectFault()
    case .snapshotFetched(let node, let incarnation, let source):
      try snapshotFetched(node, incarnation: incarnation, source: source)
    case .clientRequest(let node, let request): try receive(request, at: node)
    case .clientReply(let client, let reply): receive(reply, by: client)
    case .clientTimeout(let client, let operationID): timeOut(client, operationID: operationID)
    case .clientStart(let client): startOperation(client)
    case .livenessStart: try startLiveness()
    case .livenessCheck: try checkLiveness()
    }
  }

  /// Election safety after every event: the first leader seen in a term owns it.
  private func observeLeaders() throws(SimulationViolation) {
    for node in nodes where node.isRunning {
      guard let raft = node.raft, raft.role == .leader else { continue }
      try oracle.observeLeader(node.id, term: raft.term)
      if leadersSeen[raft.term] == nil {
        leadersSeen[raft.term] = node.id
        statistics.leadersElected += 1
      }
    }
  }

  func index(of peer: PeerID) -> Int {
    Int(peer.rawValue) - 1
  }

  /// The running node that believes it leads the highest term, if any.
  var currentLeader: Int? {
    var best: Int?
    for (index, node) in nodes.enumerated() where node.isRunning {
      guard let raft = node.raft, raft.role == .leader else { continue }
      if best == nil || raft.term > nodes[best!].raft!.term { best = index }
    }
    return best
  }

  func ticks(_ count: Int) -> UInt64 {
    options.tickMicroseconds * UInt64(count)
  }

  private func record(_ event: SimulationEvent) {
    eventCount += 1
    trace.combine(now)
    event.feed(into: &trace)
    recentEvents.append((now, event))
    if recentEvents.count > 2 * SimulationFailure.recentEventsMax {
      recentEvents.removeFirst(recentEvents.count - SimulationFailure.recentEventsMax)
    }
  }

  private func failure(_ error: SimulationViolation) -> SimulationFailure {
    SimulationFailure(
      seed: seed, violation: error, timeMicroseconds: now,
      recentEvents: recentEvents.suffix(SimulationFailure.recentEventsMax).map {
        "t=\($0.time) \($0.event)"
      })
  }

  private func report(failure: SimulationFailure?) -> SimulationReport {
    SimulationReport(
      seed: seed, options: options, traceHash: trace, eventCount: eventCount,
      virtualMicroseconds: now, statistics: statistics, failure: failure)
  }
}
