import Foundation
import NIOCore
import NIOPosix
import O3RPC
import O3TestSupport
import RaftCore

/// Replicas of the key-value store, each a separate `RaftKVServer serve` process on loopback:
/// started, killed (SIGKILL) and restarted on their own log directories.
public final class ReplicaProcesses: @unchecked Sendable {
  // @unchecked: `processes`, `raftPorts` and `clientPorts` are changed only by the owning test or
  // benchmark task, never concurrently.
  public let executable: String
  public let directory: String
  public let ids: [PeerID]
  private let tickMilliseconds: Int
  private var processes: [PeerID: ManagedProcess] = [:]
  private var raftPorts: [PeerID: Int] = [:]
  private var clientPorts: [PeerID: Int] = [:]

  public init(executable: String, count: Int, tickMilliseconds: Int = 50) {
    self.executable = executable
    self.ids = (1...UInt64(count)).map { PeerID($0) }
    self.tickMilliseconds = tickMilliseconds
    directory = FileManager.default.temporaryDirectory.appendingPathComponent("o3-raft-kv-\(UUID().uuidString)").path
  }

  /// Starts every replica and tells each where the others listen.
  public func startAll() async throws {
    for id in ids { try await launch(id) }
    try await announcePeers()
  }

  /// Starts one replica (again): it keeps its log directory and, on restart, its ports, so the
  /// others reach it where they expect it.
  public func launch(_ id: PeerID) async throws {
    let process = try await ManagedProcess.start(
      executable: executable,
      arguments: [
        "serve", "--id", "\(id)", "--members", ids.map(\.description).joined(separator: ","),
        "--directory", "\(directory)/replica-\(id)", "--tick-milliseconds", "\(tickMilliseconds)",
        "--raft-port", "\(raftPorts[id] ?? 0)", "--client-port", "\(clientPorts[id] ?? 0)",
      ],
      output: .collected)
    processes[id] = process
    _ = await process.waitForOutput(containing: "\n", timeout: .seconds(120))
    let line = process.standardOutput.split(separator: "\n").first.map(String.init) ?? ""
    guard let match = line.firstMatch(of: /READY raft=(\d+) client=(\d+)/) else {
      throw ReplicaProcessError(message: "replica \(id) did not start: '\(line)' \(process.standardError)")
    }
    raftPorts[id] = Int(match.1)!
    clientPorts[id] = Int(match.2)!
  }

  /// Tells every running replica every replica's Raft address.
  public func announcePeers() async throws {
    let peers = KeyValuePeers.format(ids.compactMap { id in raftPorts[id].map { (id, "127.0.0.1:\($0)") } })
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
