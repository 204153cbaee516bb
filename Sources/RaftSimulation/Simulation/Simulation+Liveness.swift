import RaftCore

/// The liveness phase (TigerBeetle's VOPR, second half): faults stop, the network heals and
/// becomes reliable, every node runs again except perhaps one voter whose loss leaves a
/// majority of every membership in use, and the cluster must then elect a leader, answer every
/// client request and converge within `livenessBoundTicks`. Then the history is checked.
extension Simulation {
  func startLiveness() throws(SimulationViolation) {
    phase = .liveness(deadline: now + ticks(options.livenessBoundTicks))
    network.heal()
    for node in nodes.indices {
      switch nodes[node].condition {
      case .crashed: try restartIfDown(node)
      case .paused: try resume(node)
      case .running: break
      }
    }
    if random.chance(1, in: 2), let node = voterThatMayStayDown() {
      downForGood[node] = true
      try crash(node)
    }
    for client in clients.indices { startOperation(client) }
    queue.schedule(.livenessCheck, at: now + options.tickMicroseconds)
  }

  /// A voter whose absence leaves a majority of every membership any node uses.
  private func voterThatMayStayDown() -> Int? {
    var memberships = [oracle.reference.membership]
    for node in nodes {
      if let membership = node.raft?.membership { memberships.append(membership) }
    }
    let candidates = nodes.indices.filter { candidate in
      let peer = nodes[candidate].id
      return oracle.reference.membership.isVoter(peer)
        && memberships.allSatisfy { membership in
          membership.voters.filter { $0 != peer }.count >= membership.voters.count / 2 + 1
        }
    }
    return candidates.isEmpty ? nil : random.element(of: candidates)
  }

  func checkLiveness() throws(SimulationViolation) {
    guard case .liveness(let deadline) = phase else { return }
    if isConverged() {
      phase = .converged
      return
    }
    guard now < deadline else {
      throw SimulationViolation(
        .liveness,
        "no convergence \(options.livenessBoundTicks) ticks after healing; "
          + "clients done \(clients.map(\.livenessSuccesses)); " + clusterSummary())
    }
    queue.schedule(.livenessCheck, at: now + options.tickMicroseconds)
  }

  /// One leader that every live member follows, every entry committed and applied everywhere
  /// with equal states, and every client done with its operations.
  private func isConverged() -> Bool {
    let clientsDone = clients.allSatisfy {
      $0.current == nil && $0.livenessSuccesses >= Self.livenessOperationsPerClient
    }
    guard clientsDone, let leader = currentLeader else { return false }
    let leaderStatus = nodes[leader].raft!.status
    let last = leaderStatus.lastIndex
    guard leaderStatus.hardState.commit == last else { return false }
    let digest = nodes[leader].stateMachine.digest
    for peer in leaderStatus.membership.members where !downForGood[index(of: peer)] {
      let node = nodes[index(of: peer)]
      guard node.isRunning, node.runtime?.isIdle == true, let raft = node.raft else { return false }
      let status = raft.status
      let agrees =
        status.leader == leaderStatus.id && status.hardState.term == leaderStatus.hardState.term
        && status.lastIndex == last && status.hardState.commit == last
        && node.stateMachine.applied.index == last && node.stateMachine.digest == digest
      guard agrees else { return false }
    }
    return true
  }

  private func clusterSummary() -> String {
    nodes.map { node in
      guard let raft = node.raft else { return "\(node.id): down" }
      let status = raft.status
      return "\(node.id): \(node.condition) \(status.role.rawValue) term \(status.hardState.term) "
        + "leader \(status.leader.map(\.description) ?? "-") "
        + "last \(lastTerm(node))/\(status.lastIndex) "
        + "commit \(status.hardState.commit) applied \(node.stateMachine.applied.index) "
        + "\(status.membership)"
    }.joined(separator: "; ")
  }

  private func lastTerm(_ node: SimulatedNode) -> UInt64 {
    (try? node.disk.live.term(at: node.disk.live.lastIndex)) ?? 0
  }

  /// The client history, with timed-out operations resolved from the log where possible, must
  /// be linearizable.
  func checkHistory() throws(SimulationViolation) {
    let (operations, resolved) = history.settledOperations(applications: oracle.firstApplications)
    statistics.operationsResolvedFromLog = resolved
    statistics.operationsChecked = operations.count
    switch LinearizabilityChecker(model: KeyValueModel()).check(operations) {
    case .linearizable:
      return
    case .notLinearizable(let violation):
      throw SimulationViolation(.linearizability, violation.report)
    case .unknown(let steps):
      throw SimulationViolation(
        .linearizability, "the history of \(operations.count) operations was not decided in "
          + "\(steps) search steps")
    }
  }
}
