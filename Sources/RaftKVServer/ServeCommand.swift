import ArgumentParser
import Foundation
import Logging
import NIOPosix
import O3Common
import O3RPC
import O3Service
import O3Threads
import Raft
import RaftCore
import RaftKV
import RaftRPC

/// `serve`: one replica. Prints `READY raft=<port> client=<port>` once listening.
///
/// With `--groups 0` (the default) it is a member of one group, whose peers' Raft addresses arrive
/// later through the `kv.peers` call (so every process can bind port 0). With `--groups n` it
/// hosts groups 1...n behind its one Raft port on a `RaftMultiGroupHost`, as a datanode hosts its
/// pipelines: every member's address is given up front (`--peers`), since each group is created
/// with them; groups found in `--directory` are recovered, the others created.
struct ServeCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run one replica.")

  @Option(help: "This replica's id.") var id: UInt64
  @Option(help: "Founding members, e.g. 1,2,3.") var members: String = "1,2,3"
  @Option(help: "Log directory (with --groups: the root of the groups' directories).") var directory: String
  @Option(help: "Tick length in milliseconds.") var tickMilliseconds = 50
  @Option(help: "Raft listen port (0: any free port; with --groups a fixed one).") var raftPort = 0
  @Option(help: "Client listen port (0: any free port).") var clientPort = 0
  @Option(help: "Groups to host behind the one Raft port, numbered 1...n; 0: one group on its own transport.")
  var groups = 0
  @Option(help: "With --groups: every member's Raft address, e.g. 1=127.0.0.1:20001,2=127.0.0.1:20002.")
  var peers = ""

  /// The id of group `number`: "o3kv" in the first bytes, the number in the last.
  static func groupID(_ number: Int) -> RaftGroupID {
    RaftGroupID(high: 0x6f33_6b76_0000_0000, low: UInt64(number))
  }

  func validate() throws {
    guard groups >= 0 else { throw ValidationError("--groups must be 0 or more") }
    guard groups > 0 else { return }
    guard raftPort > 0 else { throw ValidationError("--groups needs a fixed --raft-port: the groups are created with it") }
    let addresses = Dictionary(KeyValuePeers.parse(peers), uniquingKeysWith: { first, _ in first })
    for member in voters where addresses[member] == nil {
      throw ValidationError("--groups needs --peers to give the Raft address of every member; \(member) has none")
    }
  }

  private var voters: [PeerID] {
    members.split(separator: ",").compactMap { UInt64($0) }.filter { $0 > 0 }.map { PeerID($0) }
  }

  func run() async throws {
    LoggingSystem.bootstrap { label in
      var handler = StreamLogHandler.standardError(label: label)
      handler.logLevel = .warning
      return handler
    }
    let logger = Logger(label: "raft-kv-\(id)")
    let (service, raftPort) = groups == 0 ? try await serveOneGroup(logger: logger) : try await serveGroups(logger: logger)
    let rpc = try await RPCServer.start(host: "127.0.0.1", port: clientPort, handler: service, group: MultiThreadedEventLoopGroup.singleton)
    announce("READY raft=\(raftPort) client=\(rpc.localPort)")
    // Runs until killed: the tests stop replicas with SIGKILL or SIGTERM on purpose.
    while true { try await Task.sleep(for: .seconds(3600)) }
  }

  /// One group on a `RaftRPCTransport` of its own: the path every single-group server takes.
  private func serveOneGroup(logger: Logger) async throws -> (KeyValueService, Int) {
    let peer = PeerID(id)
    // Recovery reads and fsyncs: on a thread of its own, not the cooperative pool.
    let log = try await onOwnThread("raft-log-open") { [directory] in try DurableRaftLog.open(directory: directory, logger: logger) }
    let transport = try RaftRPCTransport(
      localPeer: peer, listenHost: "127.0.0.1", listenPort: raftPort, group: MultiThreadedEventLoopGroup.singleton,
      logger: logger)
    let server = try await RaftServer.start(
      configuration: raftConfiguration(peer), log: log, initialMembership: Membership(voters: voters, learners: []),
      stateMachine: KeyValueMachine(), transport: transport, logger: logger)
    let service = KeyValueService(raft: server, transport: transport) {
      let statistics = server.statistics
      return "syncs=\(statistics.syncs) fsyncs=\(log.statistics.fsyncCalls) entriesSynced=\(statistics.entriesSynced) "
        + "raftConnections=\(Self.connections(transport.statistics))"
    }
    return (service, transport.localPort)
  }

  /// Groups 1...n on a `RaftMultiGroupHost`: those stored under `directory` are recovered, the
  /// others created with every member. `kv.peers` changes nothing here: each group's members and
  /// their addresses are in its spec.
  private func serveGroups(logger: Logger) async throws -> (KeyValueService, Int) {
    let peer = PeerID(id)
    let addresses = Dictionary(KeyValuePeers.parse(peers), uniquingKeysWith: { first, _ in first })
    let settings = RaftMultiGroupHost.Settings(
      rootDirectory: directory, segmentSizeBytes: 64 << 20, listenAddress: HostAndPort(host: "127.0.0.1", port: raftPort),
      listenAddressKey: "--raft-port", localPeer: peer, raft: raftConfiguration(peer))
    let host = try await RaftMultiGroupHost.start(
      settings, stateMachines: { _ in KeyValueMachine() }, eventLoopGroup: MultiThreadedEventLoopGroup.singleton,
      logger: logger, onGroupFailure: { group, error in logger.error("Raft group \(group) failed: \(error)") })
    let members = voters.map { RaftGroupSpec.Member(peer: $0, address: addresses[$0]!) }
    var servers: [Int: RaftServer] = [:]
    for number in 1...groups {
      let group = Self.groupID(number)
      if let recovered = host.server(for: group) {
        servers[number] = recovered
      } else {
        servers[number] = try await host.addGroup(RaftGroupSpec(id: group, members: members))
      }
    }
    let service = KeyValueService(groups: servers, setAddress: { _, _ in }) {
      "raftConnections=\(Self.connections(host.transportStatistics))"
    }
    return (service, host.port)
  }

  private func raftConfiguration(_ peer: PeerID) -> RaftServerConfiguration {
    var raft = RaftConfiguration(id: peer)
    raft.electionTimeoutTicks = 10
    var configuration = RaftServerConfiguration(raft: raft)
    configuration.tickMilliseconds = tickMilliseconds
    return configuration
  }

  /// Connections made to other replicas' Raft ports since start (reconnections included).
  private static func connections(_ statistics: RaftRPCStatistics) -> Int {
    statistics.peers.values.reduce(0) { $0 + $1.connectionsEstablished }
  }
}
