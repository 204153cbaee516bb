import Foundation
import NIOCore
import NIOPosix
import O3RPC
import O3TestSupport
import RaftCore

/// Replicas of the key-value store, each a separate `RaftKVServer serve` process on loopback:
/// started, killed (SIGKILL) and restarted on their own log directories.
///
/// With `groups` above 0 every replica hosts that many groups behind its one Raft port
/// (`serve --groups`). Their Raft ports are then chosen here (from `FreePorts`) before any
/// starts, since each group's founding members are created with their addresses.
public final class ReplicaProcesses: @unchecked Sendable {
  // @unchecked: `processes`, `raftPorts` and `clientPorts` are changed only by the owning test or
  // benchmark task, never concurrently.
  public let executable: String
  public let directory: String
  public let ids: [PeerID]
  private let tickMilliseconds: Int
  /// Groups per replica; 0: one default group on the original single-group path.
  public let groups: Int
  private var processes: [PeerID: ManagedProcess] = [:]
  private var raftPorts: [PeerID: Int] = [:]
  private var clientPorts: [PeerID: Int] = [:]

  public init(executable: String, count: Int, tickMilliseconds: Int = 50, groups: Int = 0) {
    precondition(groups >= 0, "a replica hosts 0 (the default group) or more groups")
    self.executable = executable
    self.ids = (1...UInt64(count)).map { PeerID($0) }
    self.tickMilliseconds = tickMilliseconds
    self.groups = groups
    directory = FileManager.default.temporaryDirectory.appendingPathComponent("o3-raft-kv-\(UUID().uuidString)").path
  }

  /// Starts every replica and tells each where the others listen.
  public func startAll() async throws {
    if groups > 0 {
      let ports = try FreePorts.allocate(ids.count)
      for (id, port) in zip(ids, ports) { raftPorts[id] = port }
    }
    for id in ids { try await launch(id) }
    try await announcePeers()
  }

  /// Starts one replica (again): it keeps its log directory and, on restart, its ports, so the
  /// others reach it where they expect it.
  public func launch(_ id: PeerID) async throws {
    var arguments = [
      "serve", "--id", "\(id)", "--members", ids.map(\.description).joined(separator: ","),
      "--directory", "\(directory)/replica-\(id)", "--tick-milliseconds", "\(tickMilliseconds)",
      "--raft-port", "\(raftPorts[id] ?? 0)", "--client-port", "\(clientPorts[id] ?? 0)",
    ]
    if groups > 0 {
      arguments += ["--groups", "\(groups)", "--peers", peerList]
    }
    let process = try await ManagedProcess.start(executable: executable, arguments: arguments, output: .collected)
    processes[id] = process
    _ = await process.waitForOutput(containing: "\n", timeout: .seconds(120))
    let line = process.standardOutput.split(separator: "\n").first.map(String.init) ?? ""
    guard let match = line.firstMatch(of: /READY raft=(\d+) client=(\d+)/) else {
      throw ReplicaProcessError(message: "replica \(id) did not start: '\(line)' \(process.standardError)")
    }
    raftPorts[id] = Int(match.1)!
    clientPorts[id] = Int(match.2)!
  }

  /// Every replica's Raft address known so far, as `kv.peers` and `--peers` take them.
  private var peerList: String {
    KeyValuePeers.format(ids.compactMap { id in raftPorts[id].map { (id, "127.0.0.1:\($0)") } })
  }

  /// Tells every running replica every replica's Raft address.
  public func announcePeers() async throws {
    let peers = peerList
    for id in ids where processes[id]?.isRunning == true {
      let client = try await RPCClient.connect(host: "127.0.0.1", port: clientPorts[id]!, group: MultiThreadedEventLoopGroup.singleton)
      _ = try await client.call(method: "kv.peers", payload: Array(peers.utf8), deadline: .seconds(10))
      await client.close()
    }
  }

  /// SIGKILL: the replica loses everything it had not fsync'd.
  public func kill(_ id: PeerID) async {
    await processes[id]?.kill()
  }

  public var clientAddresses: [PeerID: (host: String, port: Int)] {
    clientPorts.mapValues { (host: "127.0.0.1", port: $0) }
  }

  /// Kills every replica (without waiting for the exits) and removes their directories.
  public func stopAll() {
    for process in processes.values { process.sendKill() }
    try? FileManager.default.removeItem(atPath: directory)
  }
}

/// A replica process that could not be started or configured.
public struct ReplicaProcessError: Error, CustomStringConvertible {
  public var message: String
  public var description: String { message }

  public init(message: String) {
    self.message = message
  }
}
