import RaftCore

/// The nemesis of the safety phase: at random intervals it picks one fault by the seed's
/// weights. Membership changes, compactions and transfers count as faults here because they
/// are what turns ordinary bugs into lost data (RethinkDB, Jepsen 2016).
extension Simulation {
  func injectFault() throws(SimulationViolation) {
    let gap = 1 + random.below(UInt64(2 * options.faultIntervalTicks))
    queue.schedule(.fault, at: now + ticks(Int(gap)))
    let total = options.totalFaultWeight
    guard total > 0 else { return }
    guard phase == .safety else {
      // Compaction is routine work, not chaos: it goes on so that checkpoints keep up with
      // the snapshot notices followers may still be answering.
      compact(random.index(below: nodes.count))
      return
    }
    var draw = random.below(total)
    let choices: [(UInt64, () throws(SimulationViolation) -> Void)] = [
      (options.crashWeight, crashRandomNode),
      (options.pauseWeight, pauseRandomNode),
      (options.partitionWeight, partitionNetwork),
      (options.membershipChangeWeight, changeMembership),
      (options.leaderTransferWeight, transferLeadership),
      (options.compactionWeight, { self.compact(self.random.index(below: self.nodes.count)) }),
    ]
    for (weight, fault) in choices {
      guard draw < weight else {
        draw -= weight
        continue
      }
      try fault()
      return
    }
  }

  private func crashRandomNode() throws(SimulationViolation) {
    let node = random.index(below: nodes.count)
    try crash(node)
    let down = 1 + random.below(UInt64(options.downTicksMaximum))
    queue.schedule(.restart(node: node), at: now + ticks(Int(down)))
  }

  private func pauseRandomNode() {
    let node = random.index(below: nodes.count)
    pause(node)
    let stopped = 1 + random.below(UInt64(options.downTicksMaximum))
    queue.schedule(.resume(node: node), at: now + ticks(Int(stopped)))
  }

  private func partitionNetwork() {
    statistics.partitions += 1
    let shape = random.element(of: SimulatedNetwork.PartitionShape.allCases)
    network.partition(shape, leader: currentLeader, random: &random)
    let lasting = 1 + random.below(UInt64(options.partitionTicksMaximum))
    queue.schedule(.heal(generation: network.generation), at: now + ticks(Int(lasting)))
  }

  /// The leader proposes one single-server change: add a spare (as learner or voter), promote
  /// a learner, or remove a member (sometimes itself), keeping a floor of voters.
  private func changeMembership() throws(SimulationViolation) {
    guard let leader = currentLeader else { return }
    let membership = nodes[leader].raft!.membership
    let votersMin = nodes.count >= 4 ? 3 : 2
    var changes: [MembershipChange] = []
    for node in nodes {
      let peer = node.id
      if !membership.isMember(peer) {
        changes.append(MembershipChange(.addLearner, peer: peer))
        changes.append(MembershipChange(.addVoter, peer: peer))
      } else if membership.isLearner(peer) {
        changes.append(MembershipChange(.promoteLearner, peer: peer))
        changes.append(MembershipChange(.removePeer, peer: peer))
      } else if membership.voters.count > votersMin {
        changes.append(MembershipChange(.removePeer, peer: peer))
      }
    }
    guard !changes.isEmpty else { return }
    statistics.membershipChangesProposed += 1
    _ = try? nodes[leader].runtime!.node.proposeMembershipChange(random.element(of: changes))
    try driveReady(leader)
  }

  private func transferLeadership() throws(SimulationViolation) {
    guard let leader = currentLeader else { return }
    let voters = nodes[leader].raft!.membership.voters.filter { $0 != nodes[leader].id }
    guard !voters.isEmpty else { return }
    statistics.leaderTransfersRequested += 1
    _ = try? nodes[leader].runtime!.node.transferLeader(to: random.element(of: voters))
    try driveReady(leader)
  }
}
