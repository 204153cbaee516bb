import ArgumentParser
import Foundation
import Logging
import NIOPosix
import O3RPC
import O3Threads
import Raft
import RaftCore
import RaftKV
import RaftRPC

/// `serve`: one replica. Prints `READY raft=<port> client=<port>` once listening; the peers'
/// Raft addresses arrive later through the `kv.peers` call (so every process can bind port 0).
struct ServeCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run one replica.")

  @Option(help: "This replica's id.") var id: UInt64
  @Option(help: "Founding members, e.g. 1,2,3.") var members: String = "1,2,3"
  @Option(help: "Log directory.") var directory: String
  @Option(help: "Tick length in milliseconds.") var tickMilliseconds = 50
  @Option(help: "Raft listen port (0: any free port).") var raftPort = 0
  @Option(help: "Client listen port (0: any free port).") var clientPort = 0

  func run() async throws {
    LoggingSystem.bootstrap { label in
      var handler = StreamLogHandler.standardError(label: label)
      handler.logLevel = .warning
      return handler
    }
    let logger = Logger(label: "raft-kv-\(id)")
    let peer = PeerID(id)
    let voters = members.split(separator: ",").compactMap { UInt64($0) }.map { PeerID($0) }
    // Recovery reads and fsyncs: on a thread of its own, not the cooperative pool.
    let log = try await onOwnThread("raft-log-open") { [directory] in try DurableRaftLog.open(directory: directory, logger: logger) }
    let group = MultiThreadedEventLoopGroup.singleton
    let transport = try RaftRPCTransport(localPeer: peer, listenHost: "127.0.0.1", listenPort: raftPort, group: group, logger: logger)
    var raft = RaftConfiguration(id: peer)
    raft.electionTimeoutTicks = 10
    var configuration = RaftServerConfiguration(raft: raft)
    configuration.tickMilliseconds = tickMilliseconds
    let server = try await RaftServer.start(
      configuration: configuration, log: log, initialMembership: Membership(voters: voters, learners: []),
      stateMachine: KeyValueMachine(), transport: transport, logger: logger)
    let service = KeyValueService(raft: server, transport: transport) {
      let statistics = server.statistics
      return "syncs=\(statistics.syncs) fsyncs=\(log.statistics.fsyncCalls) entriesSynced=\(statistics.entriesSynced)"
    }
    let rpc = try await RPCServer.start(host: "127.0.0.1", port: clientPort, handler: service, group: group)
    announce("READY raft=\(transport.localPort) client=\(rpc.localPort)")
    // Runs until killed: the tests stop replicas with SIGKILL or SIGTERM on purpose.
    while true { try await Task.sleep(for: .seconds(3600)) }
  }
}
