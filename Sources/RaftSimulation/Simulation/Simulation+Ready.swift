import Raft
import RaftCore

/// The driver of each node: events in, the runtime's own ``ReadyHandler`` out. The handler
/// persists, syncs, sends, applies and advances in the runtime's order through the node's
/// ``SimulatedNodeSeams``, where the safety oracle watches; what is left here is when things
/// happen (ticks, arrivals, the end of an fsync) and the checks that need a whole Ready.
extension Simulation {
  func tick(_ node: Int, incarnation: UInt64) throws(SimulationViolation) {
    guard nodes[node].incarnation == incarnation, nodes[node].condition != .crashed else { return }
    queue.schedule(.tick(node: node, incarnation: incarnation), at: now + options.tickMicroseconds)
    guard nodes[node].isRunning else { return }
    nodes[node].runtime!.tick()
    try readyHandled(node)
    try driveReady(node)
  }

  func deliver(_ message: RaftMessage) throws(SimulationViolation) {
    let sender = index(of: message.from)
    let receiver = index(of: message.to)
    guard network.arrive(from: sender, to: receiver) else { return }
    try step(message, at: receiver)
  }

  /// Hands an arrived message to its node (or keeps it while the node is paused).
  func step(_ message: RaftMessage, at receiver: Int) throws(SimulationViolation) {
    switch nodes[receiver].condition {
    case .crashed: return
    case .paused: deferEvent(.deliver(message), at: receiver)
    case .running:
      nodes[receiver].runtime!.node.step(message)
      try driveReady(receiver)
    }
  }

  /// Starts the fsync of a node's writes; it ends after a delay drawn from the seed.
  func scheduleFsync(of node: Int) {
    let delay = UInt64(
      random.integer(in: Int(options.fsyncMinimumMicroseconds)...Int(options.fsyncMaximumMicroseconds)))
    queue.schedule(.fsyncDone(node: node, incarnation: nodes[node].incarnation), at: now + delay)
  }

  func fsyncDone(_ node: Int, incarnation: UInt64) throws(SimulationViolation) {
    guard nodes[node].incarnation == incarnation, let runtime = nodes[node].runtime, !runtime.isIdle else {
      return
    }
    if nodes[node].condition == .paused {
      deferEvent(.fsyncDone(node: node, incarnation: incarnation), at: node)
      return
    }
    nodes[node].disk.sync()
    try checkDurableHardState(node)
    runtime.syncFinished(nil)
    try readyHandled(node)
    try driveReady(node)
  }

  /// Has the handler take Readies while the node has them and none waits for an fsync.
  func driveReady(_ node: Int) throws(SimulationViolation) {
    while nodes[node].isRunning, let runtime = nodes[node].runtime, runtime.pumpReady() {
      try readyHandled(node)
    }
  }

  /// After the handler ran: throws what its seams found, checks a leader's log, installs a
  /// downloaded checkpoint once no Ready is in flight, and answers the reads applied reached.
  private func readyHandled(_ node: Int) throws(SimulationViolation) {
    try throwSeamViolation()
    guard let runtime = nodes[node].runtime else { return }
    if runtime.node.role == .leader {
      try oracle.checkCompleteness(of: nodes[node].id, term: runtime.node.term, storage: nodes[node].disk.live)
      try checkSingleMembershipChange(leader: node)
    }
    if runtime.isIdle, let checkpoint = nodes[node].checkpointToInstall {
      nodes[node].checkpointToInstall = nil
      try install(checkpoint, at: node)
    }
    serveConfirmedReads(at: node)
  }

  /// Runs a check inside one of the handler's seams, keeping the first violation.
  func checkInSeam(_ check: () throws(SimulationViolation) -> Void) {
    guard seamViolation == nil else { return }
    do throws(SimulationViolation) {
      try check()
    } catch {
      seamViolation = error
    }
  }

  func throwSeamViolation() throws(SimulationViolation) {
    if let seamViolation { throw seamViolation }
  }

  /// A written hard state may raise the commit index: every newly committed index must be
  /// durable on a majority.
  func observeCommit(_ hardState: HardState, at node: Int) throws(SimulationViolation) {
    let newlyCommitted = try oracle.observeCommit(
      hardState.commit, term: hardState.term, in: nodes[node].disk.live, by: nodes[node].id)
    if let newlyCommitted { try checkDurableMajority(newlyCommitted, reportedBy: node) }
  }

  func send(_ message: RaftMessage) {
    statistics.messagesSent += 1
    let sender = index(of: message.from)
    let receiver = index(of: message.to)
    for delay in network.plan(from: sender, to: receiver, options: networkOptions, random: &random) {
      queue.schedule(.deliver(message), at: now + delay)
    }
  }

  /// The options messages travel under: the seed's in the safety phase, a reliable network
  /// once the liveness phase has healed it.
  var networkOptions: SimulationOptions {
    guard phase != .safety else { return options }
    var reliable = options
    reliable.messageLossPercent = 0
    reliable.messageDuplicatePercent = 0
    reliable.longDelayPercent = 0
    return reliable
  }

  func apply(_ entry: LogEntry, at node: Int) throws(SimulationViolation) {
    let result = nodes[node].stateMachine.apply(entry)
    try oracle.observeApplied(
      entry, digest: nodes[node].stateMachine.digest, output: result, by: nodes[node].id, at: now)
    if let (command, _) = result, history.wasRefused(command) {
      throw SimulationViolation(
        .refusedOperationApplied,
        "client \(command.clientID) operation \(command.operationID) was refused yet applied "
          + "at \(entry.termIndex)")
    }
    guard let proposal = nodes[node].proposals.removeValue(forKey: entry.index) else { return }
    if proposal.position.term == entry.term, let (command, output) = result,
      command == proposal.command
    {
      reply(.result(output), to: proposal.clientIndex, for: proposal, from: node)
    } else {
      // Another entry committed at this index: this proposal can never commit.
      let hint = nodes[node].raft?.leader
      reply(.refused(leaderHint: hint), to: proposal.clientIndex, for: proposal, from: node)
    }
  }

  /// The leader confirmed these reads: each waits for applied to reach its index.
  func readsConfirmed(_ states: [ReadState], at node: Int) {
    for readState in states {
      guard var read = nodes[node].reads[readState.context], read.readIndex == nil else { continue }
      read.readIndex = readState.index
      nodes[node].reads[readState.context] = read
      nodes[node].confirmedReads.append(readState.context)
    }
  }

  func serveConfirmedReads(at node: Int) {
    let applied = nodes[node].stateMachine.applied.index
    var waiting: [[UInt8]] = []
    for context in nodes[node].confirmedReads {
      guard let read = nodes[node].reads[context], let readIndex = read.readIndex else { continue }
      guard readIndex <= applied else {
        waiting.append(context)
        continue
      }
      nodes[node].reads[context] = nil
      let value = nodes[node].stateMachine.values[read.command.input.key]
      reply(
        .result(.value(value)), to: read.clientIndex, for: read.command, attempt: read.attempt,
        from: node)
    }
    nodes[node].confirmedReads = waiting
  }

  func deferEvent(_ event: SimulationEvent, at node: Int) {
    guard nodes[node].deferred.count < SimulatedNode.deferredEventsMax else { return }
    nodes[node].deferred.append(event)
  }
}
