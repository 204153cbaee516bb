import Foundation
import O3TestSupport
import OzoneClient
import RaftSimulation

/// A fault cluster with the namespace workload running on it, and the checks that end a run.
///
/// Checks, none of them on timing: the history (final listings included, so a lost
/// acknowledged write is a violation) must be linearizable; the OMs checked must converge
/// (apply and flush the leader's whole log), stop cleanly on SIGTERM, and hold tables with
/// equal digests.
final class FaultSession: Sendable {
  let cluster: OMFaultCluster
  let observer: OzoneClient
  let clients: [OzoneClient]
  let workload: NamespaceWorkload

  private init(cluster: OMFaultCluster, observer: OzoneClient, clients: [OzoneClient], workload: NamespaceWorkload) {
    self.cluster = cluster
    self.observer = observer
    self.clients = clients
    self.workload = workload
  }

  /// Connects the observer and one client per proxy set, creates epoch 0 and starts the load.
  static func start(on cluster: OMFaultCluster, seed: UInt64) async throws -> FaultSession {
    let observer = try await observerClient(cluster)
    var clients: [OzoneClient] = []
    for index in 0..<cluster.clientCount { clients.append(try await workloadClient(cluster, index: index)) }
    let workload = NamespaceWorkload(clients: clients, seed: seed)
    guard await workload.advanceEpoch(to: 0, using: observer) else {
      throw FaultTestFailure("could not create the first epoch's bucket on a healthy cluster")
    }
    workload.start()
    return FaultSession(cluster: cluster, observer: observer, clients: clients, workload: workload)
  }

  /// The test's own client: dials every OM directly and retries long (it must get through
  /// once the cluster heals).
  private static func observerClient(_ cluster: OMFaultCluster) async throws -> OzoneClient {
    var configuration = cluster.directConfiguration
    configuration["ozone.client.failover.max.attempts"] = "200"
    configuration["ozone.client.wait.between.retries.millis"] = "200"
    return try await OzoneClient.connect(configuration: configuration, userName: "observer", callTimeout: .seconds(10))
  }

  /// A workload client behind its own proxies; it gives up on a call after a few seconds of
  /// failing over, so that calls caught in a fault end (with an unknown outcome) and the
  /// workload keeps moving.
  private static func workloadClient(_ cluster: OMFaultCluster, index: Int) async throws -> OzoneClient {
    var configuration = cluster.clientConfiguration(index)
    configuration["ozone.client.failover.max.attempts"] = "20"
    configuration["ozone.client.wait.between.retries.millis"] = "200"
    return try await OzoneClient.connect(configuration: configuration, userName: "client\(index)", callTimeout: .seconds(5))
  }

  /// Writes acknowledged so far (any answer that is not unknown, to a write).
  var acknowledgedWrites: Int {
    workload.history.operations.filter { !$0.input.isReadOnly && $0.returnTime != nil }.count
  }

  /// Polls until `count` more writes than now were acknowledged; throws after `timeout`.
  func waitForWrites(_ count: Int, timeout: Duration = .seconds(120), _ what: String) async throws {
    let target = acknowledgedWrites + count
    let deadline = ContinuousClock.now + timeout
    while acknowledgedWrites < target {
      guard ContinuousClock.now < deadline else {
        throw FaultTestFailure("\(what): only \(acknowledgedWrites) of \(target) writes acknowledged within \(timeout)")
      }
      try await Task.sleep(for: .milliseconds(100))
    }
  }

  /// What ``finish(checking:)`` found.
  struct Verdict {
    var problems: [String] = []
    var operations = 0
    var unknownOperations = 0
  }

  /// Stops the load, reads everything it touched, and checks the OMs named (default: all).
  func finish(checking nodeIDs: [String]? = nil) async -> Verdict {
    var verdict = Verdict()
    if await cluster.waitForLeader(timeout: .seconds(180)) == nil {
      verdict.problems.append("no ready leader within 180 s after every fault was healed")
    }
    await workload.stop()
    await finalReads()
    for client in clients + [observer] { await client.close() }
    verdict.problems += await checkReplicas(nodeIDs ?? cluster.nodeIDs)
    let operations = workload.history.operations
    let checkStarted = ContinuousClock.now
    let result = LinearizabilityChecker(model: NamespaceModel()).check(operations)
    FaultLog.line("fault run: checked \(operations.count) operations in \(ContinuousClock.now - checkStarted)")
    switch result {
    case .linearizable: break
    case .notLinearizable(let violation): verdict.problems.append(violation.report)
    case .unknown(let steps): verdict.problems.append("the linearizability search gave up after \(steps) steps")
    }
    verdict.operations = operations.count
    verdict.unknownOperations = operations.filter { $0.returnTime == nil }.count
    return verdict
  }

  /// Listings of everything the workload touched, recorded in the history: they pin the final
  /// state, so an acknowledged write that is missing makes the history non-linearizable.
  private func finalReads() async {
    var clientID = workload.history.newClientID()
    for epoch in 0...max(workload.currentEpoch, 0) {
      var reads: [NamespaceInput] = [.listKeys(volume: NamespaceWorkload.keyVolume(epoch), bucket: NamespaceWorkload.keyBucket)]
      for index in 0..<NamespaceWorkload.namespaceVolumesPerEpoch {
        reads.append(.listBuckets(volume: NamespaceWorkload.namespaceVolume(epoch, index)))
      }
      for read in reads {
        var attempts = 0
        while attempts < 5, await workload.perform(read, on: observer, clientID: clientID) == nil {
          clientID = workload.history.newClientID()
          attempts += 1
        }
      }
    }
  }

  /// Convergence, clean stops and equal digests of every table; the problems found.
  private func checkReplicas(_ nodeIDs: [String]) async -> [String] {
    var problems: [String] = []
    do {
      try await cluster.waitForConvergence(of: nodeIDs, timeout: .seconds(180))
    } catch {
      problems.append("\(error)")
    }
    for nodeID in nodeIDs {
      let status = await cluster.terminate(nodeID)
      if status != 0 {
        problems.append("\(nodeID) did not stop cleanly on SIGTERM (status \(status.map { "\($0)" } ?? "none, killed"))")
      }
    }
    do {
      let digests = try nodeIDs.map { try ReplicaDigest(nodeID: $0, databasePath: cluster.node($0).databasePath) }
      for digest in digests.dropFirst() { problems += digests[0].differences(from: digest) }
      FaultLog.line("fault run: digests \(digests.map { "\($0.nodeID): \($0.summary)" }.joined(separator: "; "))")
    } catch {
      problems.append("cannot digest the replicas: \(error)")
    }
    return problems
  }
}
