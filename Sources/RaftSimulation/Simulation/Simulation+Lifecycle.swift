import Raft
import RaftCore

/// Node lives: start, crash (losing what was not synced), restart from disk, pause and resume,
/// and the checkpoints behind compaction and snapshot installs.
extension Simulation {
  /// Starts a node from what its disk holds: the checkpoint, then the log after it.
  func startNode(_ node: Int) throws(SimulationViolation) {
    if nodes[node].disk.reconcileWithCheckpoint() { try checkDurableHardState(node) }
    let disk = nodes[node].disk
    if let checkpoint = disk.checkpoint {
      nodes[node].stateMachine = KeyValueStateMachine(checkpoint: checkpoint)
    } else {
      precondition(disk.live.snapshot.last.index == 0, "a compacted log without a checkpoint")
      nodes[node].stateMachine = KeyValueStateMachine(membership: disk.live.snapshot.membership)
    }
    var configuration = RaftConfiguration(id: nodes[node].id)
    configuration.electionTimeoutTicks = options.electionTimeoutTicks
    configuration.heartbeatIntervalTicks = options.heartbeatIntervalTicks
    configuration.appliedIndex = nodes[node].stateMachine.applied.index
    do {
      let raft = try RaftNode(
        configuration: configuration, storage: disk.live,
        random: SplitMix64Random(seed: random.next()))
      let seams = SimulatedNodeSeams(simulation: self, node: node)
      nodes[node].runtime = ReadyHandler(
        node: raft, log: seams, transport: seams, handOff: seams,
        tickMilliseconds: max(1, Int(options.tickMicroseconds / 1_000)))
    } catch {
      preconditionFailure("the simulator's configuration is invalid: \(error)")
    }
    nodes[node].condition = .running
    let phaseOffset = random.below(options.tickMicroseconds)
    queue.schedule(
      .tick(node: node, incarnation: nodes[node].incarnation), at: now + 1 + phaseOffset)
  }

  /// Power loss: everything volatile goes, and the disk keeps the synced part plus some prefix
  /// of the unsynced tail.
  func crash(_ node: Int) throws(SimulationViolation) {
    guard nodes[node].condition != .crashed else { return }
    statistics.crashes += 1
    nodes[node].incarnation += 1
    nodes[node].condition = .crashed
    nodes[node].runtime = nil
    nodes[node].proposals = [:]
    nodes[node].reads = [:]
    nodes[node].confirmedReads = []
    nodes[node].deferred = []
    nodes[node].checkpointToInstall = nil
    let outcome = nodes[node].disk.crash(random: &random)
    if outcome.tornFrameDropped { statistics.tornWritesDropped += 1 }
    try checkDurableHardState(node)
  }

  func restartIfDown(_ node: Int) throws(SimulationViolation) {
    guard nodes[node].condition == .crashed, !downForGood[node] else { return }
    statistics.restarts += 1
    try startNode(node)
  }

  func pause(_ node: Int) {
    guard nodes[node].condition == .running else { return }
    statistics.pauses += 1
    nodes[node].condition = .paused
  }

  /// Continues a paused node: the work that arrived meanwhile runs first, in arrival order.
  func resume(_ node: Int) throws(SimulationViolation) {
    guard nodes[node].condition == .paused else { return }
    nodes[node].condition = .running
    let deferred = nodes[node].deferred
    nodes[node].deferred = []
    for event in deferred {
      switch event {
      case .deliver(let message): try step(message, at: node)
      case .clientRequest(_, let request): try receive(request, at: node)
      case .fsyncDone(_, let incarnation): try fsyncDone(node, incarnation: incarnation)
      case .snapshotFetched(_, let incarnation, let source):
        try snapshotFetched(node, incarnation: incarnation, source: source)
      default: preconditionFailure("\(event) is never deferred")
      }
    }
    try driveReady(node)
  }

  /// The state machine saves a checkpoint and the log is compacted behind it, keeping a few
  /// entries for followers that are slightly behind.
  func compact(_ node: Int) {
    guard nodes[node].isRunning else { return }
    let checkpoint = nodes[node].stateMachine.checkpoint
    guard checkpoint.applied.index > nodes[node].disk.checkpoint?.applied.index ?? 0 else { return }
    statistics.compactions += 1
    nodes[node].disk.saveCheckpoint(checkpoint)
    let keptEntries = random.below(4)
    guard checkpoint.applied.index > keptEntries else { return }
    nodes[node].disk.compact(through: checkpoint.applied.index - keptEntries)
  }

  /// The handler asks for one download at a time; it ends in `snapshotFetched`.
  func startSnapshotFetch(_ notice: SnapshotNotice, at node: Int) {
    let source = index(of: notice.leader)
    let delay = ticks(1) + random.below(ticks(4))
    queue.schedule(
      .snapshotFetched(node: node, incarnation: nodes[node].incarnation, source: source),
      at: now + delay)
  }

  /// The out-of-band download ends: it worked if the source ran and both directions of the
  /// link held, and if its checkpoint is not behind what this node already applied.
  func snapshotFetched(_ node: Int, incarnation: UInt64, source: Int) throws(SimulationViolation) {
    guard nodes[node].incarnation == incarnation, nodes[node].condition != .crashed else { return }
    guard nodes[node].condition == .running else {
      deferEvent(.snapshotFetched(node: node, incarnation: incarnation, source: source), at: node)
      return
    }
    let reachable =
      nodes[source].isRunning && network.isConnected(from: node, to: source)
      && network.isConnected(from: source, to: node)
    guard reachable, let checkpoint = nodes[source].disk.checkpoint else {
      failSnapshotInstall(at: node)
      try driveReady(node)
      return
    }
    if nodes[node].runtime!.isIdle {
      try install(checkpoint, at: node)
      try driveReady(node)
    } else {
      nodes[node].checkpointToInstall = checkpoint
    }
  }

  func failSnapshotInstall(at node: Int) {
    nodes[node].runtime!.snapshotInstallFailed()
  }

  /// Installs a downloaded checkpoint: durable first, then the state machine, then Raft with
  /// the checkpoint's own membership — after asking Raft whether it still wants one, since it
  /// refuses an install once it campaigned or a newer notice raised the compaction point.
  func install(_ checkpoint: StateMachineCheckpoint, at node: Int) throws(SimulationViolation) {
    let index = checkpoint.applied.index
    let raft = nodes[node].raft!
    let wanted =
      raft.role == .follower && index >= nodes[node].stateMachine.applied.index
      && index >= raft.pendingSnapshotNotice?.leaderSnapshot.index ?? UInt64.max
    guard wanted else {
      failSnapshotInstall(at: node)
      return
    }
    try oracle.observeInstalled(checkpoint, by: nodes[node].id)
    statistics.checkpointsInstalled += 1
    nodes[node].disk.saveCheckpoint(checkpoint)
    nodes[node].stateMachine = KeyValueStateMachine(checkpoint: checkpoint)
    let accepted = nodes[node].runtime!.snapshotInstalled(
      InstalledCheckpoint(position: checkpoint.applied, membership: checkpoint.membership))
    precondition(accepted == true, "the core refused the checkpoint it was waiting for")
    for index in nodes[node].proposals.keys.sorted() where index <= checkpoint.applied.index {
      // The outcome is somewhere inside the checkpoint; the client learns it by timing out.
      nodes[node].proposals[index] = nil
    }
    serveConfirmedReads(at: node)
  }
}
