import Foundation
import NIOCore
import NIOPosix
import O3RPC
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
  private var processes: [PeerID: Process] = [:]
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
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = [
      "serve", "--id", "\(id)", "--members", ids.map(\.description).joined(separator: ","),
      "--directory", "\(directory)/replica-\(id)", "--tick-milliseconds", "\(tickMilliseconds)",
      "--raft-port", "\(raftPorts[id] ?? 0)", "--client-port", "\(clientPorts[id] ?? 0)",
    ]
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.standardError
    try process.run()
    processes[id] = process
    let line = await Self.firstLine(of: output.fileHandleForReading)
    guard let match = line.firstMatch(of: /READY raft=(\d+) client=(\d+)/) else {
      throw ReplicaProcessError(message: "replica \(id) did not start: '\(line)'")
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
  public func kill(_ id: PeerID) {
    guard let process = processes[id], process.isRunning else { return }
    Foundation.kill(process.processIdentifier, SIGKILL)
    process.waitUntilExit()
  }

  public var clientAddresses: [PeerID: (host: String, port: Int)] {
    clientPorts.mapValues { (host: "127.0.0.1", port: $0) }
  }

  /// Kills every replica and removes their directories.
  public func stopAll() {
    for id in ids { kill(id) }
    try? FileManager.default.removeItem(atPath: directory)
  }

  /// The first line a child prints, read on a thread of its own (the read blocks).
  private static func firstLine(of handle: FileHandle) async -> String {
    await withCheckedContinuation { continuation in
      Thread.detachNewThread {
        var bytes: [UInt8] = []
        while let byte = handle.readData(ofLength: 1).first, byte != UInt8(ascii: "\n") {
          bytes.append(byte)
        }
        continuation.resume(returning: String(decoding: bytes, as: UTF8.self))
      }
    }
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
