import O3TestSupport
import RaftSimulation
import Synchronization

/// Performs nemesis events on a running ``OMFaultCluster``: injects the fault, holds it for the
/// event's time (a schedule, not a synchronisation: nothing is checked by time), and heals it.
///
/// It remembers which OMs it killed, so that an OM that ended by itself is told apart: that is
/// a crash, and the run reports it.
final class Nemesis: Sendable {
  private let cluster: OMFaultCluster
  private let killed = Mutex<Set<String>>([])
  private let crashes = Mutex<[String]>([])
  private let log = Mutex<[String]>([])

  init(cluster: OMFaultCluster) {
    self.cluster = cluster
  }

  /// Lines describing each event as performed.
  var eventLog: [String] { log.withLock { $0 } }

  /// OMs found dead that the nemesis had not killed, with their exit status.
  var unexpectedExits: [String] { crashes.withLock { $0 } }

  func perform(_ event: NemesisEvent) async {
    let nodeIDs = cluster.nodeIDs
    let picked = event.order.map { nodeIDs[$0] }
    let leader = await currentLeader() ?? picked[0]
    let peers: Set<String> = ["raft", "http"]
    var random = SimulationRandom(seed: event.seed)
    var what: String
    switch event.kind {
    case .killRandom, .killLeader:
      let victim = event.kind == .killLeader ? leader : picked[0]
      await cluster.kill(victim)
      killed.withLock { _ = $0.insert(victim) }
      what = "kill -9 \(victim)"
    case .pauseLeader, .pauseRandom:
      let victim = event.kind == .pauseLeader ? leader : picked[0]
      cluster.pause(victim)
      what = "SIGSTOP \(victim)"
    case .partitionMinority:
      let minority = Set(picked.prefix((nodeIDs.count - 1) / 2))
      cluster.mesh.partition([minority, Set(nodeIDs).subtracting(minority)], purposes: peers)
      what = "partition \(minority.sorted()) | rest"
    case .isolateLeader:
      cluster.mesh.partition([[leader], Set(nodeIDs).subtracting([leader])], purposes: peers)
      what = "isolate leader \(leader)"
    case .bridge:
      let bridge = picked[0]
      let left = Set(picked.dropFirst().prefix((nodeIDs.count - 1) / 2))
      let right = Set(nodeIDs).subtracting(left).subtracting([bridge])
      cluster.mesh.partition([left, right], purposes: peers)
      what = "bridge \(bridge) between \(left.sorted()) and \(right.sorted())"
    case .leaderMute:
      cluster.mesh.block(from: [leader], to: Set(nodeIDs).subtracting([leader]), purposes: peers)
      what = "mute leader \(leader) (its messages dropped)"
    case .leaderDeaf:
      cluster.mesh.block(from: Set(nodeIDs).subtracting([leader]), to: [leader], purposes: peers)
      what = "deafen leader \(leader) (messages to it dropped)"
    case .delay:
      let mode = LinkMode.delayed(minimumMilliseconds: event.parameter, jitterMilliseconds: event.parameter / 2)
      cluster.mesh.setMode(mode) { peers.contains($0.purpose) }
      what = "delay peer links \(mode)"
    case .lossy:
      let chosen = cluster.mesh.linkIDs.filter { peers.contains($0.purpose) && random.chance(1, in: 2) }
      cluster.mesh.setMode(.lossy(perMille: event.parameter)) { chosen.contains($0) }
      what = "lossy \(event.parameter)‰ on \(chosen.count) links"
    case .cut:
      let victim = picked[0]
      cluster.mesh.cutConnections { peers.contains($0.purpose) && ($0.from == victim || $0.to == victim) }
      what = "cut the connections of \(victim)"
    case .clientPartition:
      let clients = (0..<cluster.clientCount).filter { _ in random.chance(1, in: 2) }.map { "c\($0)" }
      cluster.mesh.block(from: Set(clients), to: [leader], purposes: ["client"])
      what = "cut clients \(clients) from leader \(leader)"
    }
    if event.kind != .cut {
      try? await Task.sleep(for: .milliseconds(event.holdMilliseconds))
    }
    await heal()
    let line = "\(event) \(what), held \(event.kind == .cut ? 0 : event.holdMilliseconds) ms"
    log.withLock { $0.append(line) }
    FaultLog.line("nemesis: \(line)")
  }

  /// Opens every link, resumes paused OMs, restarts the ones the nemesis killed, and notes
  /// (then restarts) any OM that ended by itself.
  func heal() async {
    cluster.mesh.healAll()
    for nodeID in cluster.nodeIDs {
      if cluster.isPaused(nodeID) { cluster.resume(nodeID) }
      guard !cluster.isRunning(nodeID) else { continue }
      let wasKilled = killed.withLock { $0.remove(nodeID) != nil }
      if !wasKilled {
        let status = cluster.process(nodeID)?.exitStatus.map { "\($0)" } ?? "?"
        crashes.withLock { $0.append("\(nodeID) exited by itself with status \(status) (see \(cluster.node(nodeID).logFile))") }
      }
      try? await cluster.launch(nodeID)
    }
  }

  private func currentLeader() async -> String? {
    await cluster.leader()
  }
}
