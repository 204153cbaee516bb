import Raft
import RaftCore

/// One simulated node as the runtime's ``ReadyHandler`` sees it: its log is the simulated disk,
/// its transport the simulated network, its apply side the key-value state machine and the
/// clients' pending requests. The safety oracle watches every write, send and apply here.
///
/// The handler's seams cannot throw a ``SimulationViolation``; the first one found is kept in
/// the simulation and thrown as soon as the handler returns (`throwSeamViolation()`).
final class SimulatedNodeSeams: ReadyLog, ReadyTransport, ReadyHandOff {
  // unowned: the simulation owns its nodes, and so their handlers and these seams.
  unowned let simulation: Simulation
  let node: Int

  init(simulation: Simulation, node: Int) {
    self.simulation = simulation
    self.node = node
  }

  func installSnapshot(_ metadata: SnapshotMetadata) throws {
    simulation.nodes[node].disk.write(.snapshot(metadata))
  }

  func append(_ entries: [LogEntry]) throws {
    for entry in entries { simulation.nodes[node].disk.write(.entry(entry)) }
    simulation.checkInSeam { () throws(SimulationViolation) in
      try simulation.oracle.observeWritten(
        entries, in: simulation.nodes[node].disk.live, by: simulation.nodes[node].id)
    }
  }

  func setHardState(_ state: HardState) throws {
    simulation.nodes[node].disk.write(.hardState(state))
    simulation.checkInSeam { () throws(SimulationViolation) in try simulation.observeCommit(state, at: node) }
  }

  /// An fsync that takes virtual time (a crash meanwhile keeps only a prefix of the writes); the
  /// `.sendBeforeSync` sabotage is a disk that acknowledges it at once without syncing.
  func sync() throws -> ReadyLogSync {
    if simulation.options.sabotage == .sendBeforeSync { return .durable }
    simulation.scheduleFsync(of: node)
    return .pending
  }

  func send(_ messages: [RaftMessage]) {
    for message in messages {
      simulation.checkInSeam { () throws(SimulationViolation) in
        try simulation.checkSentAfterSync(message, from: node)
      }
      guard simulation.seamViolation == nil else { return }
      simulation.send(message)
    }
  }

  /// The simulated network routes by peer ID.
  func setAddress(_ address: String, of peer: PeerID) {}

  /// Clients find the leader by its hints and refusals, not by watching roles.
  func roleChanged(to softState: SoftState, from previous: SoftState?, term: UInt64) {}

  /// The simulator installs the checkpoint's state machine before the log restarts.
  func logRestarted(at position: TermIndex) {}

  func apply(_ entries: [LogEntry]) {
    for entry in entries {
      simulation.checkInSeam { () throws(SimulationViolation) in try simulation.apply(entry, at: node) }
    }
  }

  func readsConfirmed(_ states: [ReadState]) {
    simulation.readsConfirmed(states, at: node)
  }

  func installSnapshot(_ notice: SnapshotNotice) {
    simulation.startSnapshotFetch(notice, at: node)
  }

  func persistFailed(_ cause: Error) {
    preconditionFailure("the simulated disk never fails a write: \(cause)")
  }
}
