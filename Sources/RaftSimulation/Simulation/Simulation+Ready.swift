import RaftCore

/// The driver of each node: the Ready cycle under the durability contract (write, fsync, only
/// then send, except a leader's messages, which may go while it writes; apply; advance), with
/// the safety oracle consulted at every step.
extension Simulation {
  func tick(_ node: Int, incarnation: UInt64) throws(SimulationViolation) {
    guard nodes[node].incarnation == incarnation, nodes[node].condition != .crashed else { return }
    queue.schedule(.tick(node: node, incarnation: incarnation), at: now + options.tickMicroseconds)
    guard nodes[node].isRunning else { return }
    nodes[node].raft!.tick()
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
      nodes[receiver].raft!.step(message)
      try driveReady(receiver)
    }
  }

  func fsyncDone(_ node: Int, incarnation: UInt64) throws(SimulationViolation) {
    guard nodes[node].incarnation == incarnation, let ready = nodes[node].outstandingReady else {
      return
    }
    if nodes[node].condition == .paused {
      deferEvent(.fsyncDone(node: node, incarnation: incarnation), at: node)
      return
    }
    nodes[node].disk.sync()
    try checkDurableHardState(node)
    try finish(ready, at: node)
    try driveReady(node)
  }

  /// Takes Readies while the node has them: writes each, and finishes it at once unless it must
  /// wait for an fsync.
  func driveReady(_ node: Int) throws(SimulationViolation) {
    while nodes[node].isRunning, nodes[node].outstandingReady == nil, nodes[node].raft!.hasReady {
      let ready = nodes[node].raft!.ready()
      nodes[node].disk.write(ready)
      try observeWrites(ready, at: node)
      guard ready.mustSync, options.sabotage != .sendBeforeSync else {
        try finish(ready, at: node)
        continue
      }
      var waiting = ready
      if ready.messagesMayPrecedePersistence {
        // A leader's messages go out while its own fsync is under way (thesis §10.2.1).
        try sendAll(ready.messages, from: node)
        waiting.messages = []
      }
      nodes[node].outstandingReady = waiting
      let delay = UInt64(
        random.integer(
          in: Int(options.fsyncMinimumMicroseconds)...Int(options.fsyncMaximumMicroseconds)))
      queue.schedule(
        .fsyncDone(node: node, incarnation: nodes[node].incarnation), at: now + delay)
    }
  }

  private func observeWrites(_ ready: Ready, at node: Int) throws(SimulationViolation) {
    let id = nodes[node].id
    let live = nodes[node].disk.live
    try oracle.observeWritten(ready.entries, in: live, by: id)
    if let hardState = ready.hardState,
      let newlyCommitted = try oracle.observeCommit(
        hardState.commit, term: hardState.term, in: live, by: id)
    {
      try checkDurableMajority(newlyCommitted, reportedBy: node)
    }
    guard let raft = nodes[node].raft, raft.role == .leader else { return }
    try oracle.checkCompleteness(of: id, term: raft.term, storage: live)
    try checkSingleMembershipChange(leader: node)
  }

  /// Sends, applies and acknowledges a Ready whose writes are as durable as it asked.
  private func finish(_ ready: Ready, at node: Int) throws(SimulationViolation) {
    nodes[node].outstandingReady = nil
    try sendAll(ready.messages, from: node)
    for entry in ready.committedEntries {
      try apply(entry, at: node)
    }
    for readState in ready.readStates {
      guard var read = nodes[node].reads[readState.context], read.readIndex == nil else { continue }
      read.readIndex = readState.index
      nodes[node].reads[readState.context] = read
      nodes[node].confirmedReads.append(readState.context)
    }
    if let notice = ready.snapshotNotice { startSnapshotFetch(notice, at: node) }
    nodes[node].raft!.advance()
    if let checkpoint = nodes[node].checkpointToInstall {
      nodes[node].checkpointToInstall = nil
      try install(checkpoint, at: node)
    }
    serveConfirmedReads(at: node)
  }

  /// Sends each message, checking first that it promises nothing that is not yet durable.
  private func sendAll(_ messages: [RaftMessage], from node: Int) throws(SimulationViolation) {
    for message in messages {
      try checkSentAfterSync(message, from: node)
      send(message)
    }
  }

  private func send(_ message: RaftMessage) {
    statistics.messagesSent += 1
    let sender = index(of: message.from)
    let receiver = index(of: message.to)
    for delay in network.plan(
      from: sender, to: receiver, options: networkOptions, random: &random)
    {
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

  private func apply(_ entry: LogEntry, at node: Int) throws(SimulationViolation) {
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
