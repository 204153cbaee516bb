import RaftCore

/// The key-value workload: clients send puts, deletes, compare-and-sets and gets (through
/// ReadIndex or through the log) to the node they believe leads, and record the history.
extension Simulation {
  func startOperation(_ client: Int) {
    guard clients[client].current == nil else { return }
    if phase != .safety {
      guard clients[client].livenessSuccesses < Self.livenessOperationsPerClient else { return }
    }
    let operationID = clients[client].nextOperationID
    clients[client].nextOperationID += 1
    let command = ClientCommand(
      clientID: clients[client].id, operationID: operationID, input: randomInput(client))
    let request = ClientRequest(
      command: command, attempt: 1, readThroughReadIndex: random.chance(1, in: 2))
    let handle = history.invoke(command, at: now)
    clients[client].current = SimulatedClient.Operation(handle: handle, request: request)
    queue.schedule(
      .clientTimeout(client: client, operationID: operationID),
      at: now + ticks(options.clientTimeoutTicks))
    sendCurrentRequest(client, after: 0)
  }

  private func randomInput(_ client: Int) -> KeyValueInput {
    let key = "k\(random.below(UInt64(options.keyCount)))"
    let value = "c\(clients[client].id).\(clients[client].nextOperationID - 1)"
    switch random.below(20) {
    case 0..<8: return .put(key: key, value: value)
    case 8..<17: return .get(key: key)
    case 17: return .delete(key: key)
    default:
      let expected = random.chance(1, in: 3) ? nil : "c\(1 + random.below(UInt64(clients.count)))"
      return .compareAndSet(key: key, expected: expected, new: value)
    }
  }

  private func sendCurrentRequest(_ client: Int, after backoff: UInt64) {
    guard let operation = clients[client].current else { return }
    if downForGood[clients[client].target] {
      // A client configured with the OMs that are still there.
      clients[client].target = random.element(of: nodes.indices.filter { !downForGood[$0] })
    }
    guard let delay = clientLinkDelay() else { return }
    queue.schedule(
      .clientRequest(node: clients[client].target, operation.request), at: now + backoff + delay)
  }

  /// Client links lose messages like the seed's network in the safety phase, never after.
  private func clientLinkDelay() -> UInt64? {
    if phase == .safety, random.chance(options.messageLossPercent, in: 100) { return nil }
    return UInt64(random.integer(in: 20...300))
  }

  /// A node receives a client request: the leader proposes it (or starts a ReadIndex read,
  /// which a follower forwards); anything refused is answered at once.
  func receive(_ request: ClientRequest, at node: Int) throws(SimulationViolation) {
    switch nodes[node].condition {
    case .crashed: return
    case .paused:
      deferEvent(.clientRequest(node: node, request), at: node)
      return
    case .running: break
    }
    let client = Int(request.command.clientID - 1)
    let command = request.command
    if case .get(let key) = command.input, options.sabotage == .readsServedLocally {
      let value = nodes[node].stateMachine.values[key]
      reply(.result(.value(value)), to: client, for: command, attempt: request.attempt, from: node)
      return
    }
    do throws(RaftError) {
      if case .get = command.input, request.readThroughReadIndex {
        let context = Self.readContext(command)
        try nodes[node].runtime!.node.readIndex(context: context)
        nodes[node].reads[context] = SimulatedNode.PendingRead(
          clientIndex: client, command: command, attempt: request.attempt)
      } else {
        let position = try nodes[node].runtime!.node.propose(command.encoded())
        if let displaced = nodes[node].proposals[position.index] {
          reply(.refused(leaderHint: nil), to: displaced.clientIndex, for: displaced, from: node)
        }
        nodes[node].proposals[position.index] = SimulatedNode.PendingProposal(
          position: position, clientIndex: client, command: command, attempt: request.attempt)
      }
    } catch {
      let hint = error.leaderHint ?? nodes[node].raft!.leader
      reply(
        .refused(leaderHint: hint), to: client, for: command, attempt: request.attempt, from: node)
    }
    try driveReady(node)
  }

  static func readContext(_ command: ClientCommand) -> [UInt8] {
    var context: [UInt8] = []
    for number in [command.clientID, command.operationID] {
      for shift in stride(from: 56, through: 0, by: -8) {
        context.append(UInt8(truncatingIfNeeded: number >> UInt64(shift)))
      }
    }
    return context
  }

  func reply(
    _ outcome: ClientReply.Outcome, to client: Int, for proposal: SimulatedNode.PendingProposal,
    from node: Int
  ) {
    reply(outcome, to: client, for: proposal.command, attempt: proposal.attempt, from: node)
  }

  func reply(
    _ outcome: ClientReply.Outcome, to client: Int, for command: ClientCommand, attempt: Int,
    from node: Int
  ) {
    guard let delay = clientLinkDelay() else { return }
    let answer = ClientReply(operationID: command.operationID, attempt: attempt, outcome: outcome)
    queue.schedule(.clientReply(client: client, answer), at: now + delay)
  }

  func receive(_ reply: ClientReply, by client: Int) {
    guard let operation = clients[client].current,
      operation.request.command.operationID == reply.operationID,
      operation.request.attempt == reply.attempt
    else { return }
    switch reply.outcome {
    case .result(let output):
      history.complete(operation.handle, output: output, at: now)
      statistics.operationsCompleted += 1
      if phase != .safety { clients[client].livenessSuccesses += 1 }
      finishOperation(client)
    case .refused(let hint):
      guard operation.request.attempt < options.clientAttemptsMax else {
        history.markRefused(operation.handle)
        statistics.operationsRefused += 1
        clients[client].target = random.index(below: nodes.count)
        finishOperation(client)
        return
      }
      clients[client].current!.request.attempt += 1
      clients[client].target = nextTarget(after: clients[client].target, hint: hint)
      sendCurrentRequest(client, after: random.below(ticks(2)))
    }
  }

  /// The hinted leader, unless the hint names the node that just refused (removed nodes and
  /// deposed leaders give stale hints); otherwise another node at random, so that two stale
  /// nodes pointing at each other cannot hold a client forever.
  private func nextTarget(after refused: Int, hint: PeerID?) -> Int {
    if let hint, index(of: hint) != refused { return index(of: hint) }
    return (refused + 1 + random.index(below: nodes.count - 1)) % nodes.count
  }

  func timeOut(_ client: Int, operationID: UInt64) {
    guard clients[client].current?.request.command.operationID == operationID else { return }
    statistics.operationsTimedOut += 1
    clients[client].target = random.index(below: nodes.count)
    finishOperation(client)
  }

  private func finishOperation(_ client: Int) {
    clients[client].current = nil
    queue.schedule(
      .clientStart(client: client), at: now + random.below(options.clientThinkMicroseconds))
  }
}
