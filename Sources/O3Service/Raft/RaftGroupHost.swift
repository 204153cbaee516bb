import Foundation
import Logging
import NIOCore
import O3Common
import O3Threads
import Raft
import RaftCore
import RaftRPC

/// Hosts one Raft group in a server process: opens the durable log in its storage directory,
/// starts the Raft transport on the node's Raft address, points it at the other members, and
/// starts the peer with the server's state machine. The OM is its first user; SCM and each
/// datanode pipeline host their groups the same way.
///
/// What differs per server is only what it passes in: the state machine (which carries the
/// snapshot-install hooks, see `ReplicatedStateMachine`), the log retention in
/// `RaftServerConfiguration`, and a wrapper for the log store (the OM times its fsyncs).
public enum RaftGroupHost {
  public struct Settings: Sendable {
    /// Where the log's segments live (`ozone.om.ratis.storage.dir`, `ozone.scm.ha.ratis.storage.dir`).
    public var logDirectory: String
    public var segmentSizeBytes: Int
    /// The Raft address this node listens on.
    public var listenAddress: HostAndPort
    /// The configuration key of that address, named when it cannot be used.
    public var listenAddressKey: String
    /// The configured members and the Raft addresses they listen on (this node's own entry, if
    /// listed, is skipped).
    public var peers: [(id: PeerID, address: HostAndPort)]
    /// The founding members of a new group; nil for a node that joins a running group (it waits,
    /// never campaigning, until the leader adds it).
    public var initialMembership: Membership?
    public var raft: RaftServerConfiguration

    public init(
      logDirectory: String, segmentSizeBytes: Int, listenAddress: HostAndPort, listenAddressKey: String,
      peers: [(id: PeerID, address: HostAndPort)], initialMembership: Membership?, raft: RaftServerConfiguration
    ) {
      self.logDirectory = logDirectory
      self.segmentSizeBytes = segmentSizeBytes
      self.listenAddress = listenAddress
      self.listenAddressKey = listenAddressKey
      self.peers = peers
      self.initialMembership = initialMembership
      self.raft = raft
    }
  }

  /// A started group member and the port its transport listens on (useful when configured as 0).
  public struct Started: Sendable {
    public var server: RaftServer
    public var port: Int
  }

  /// Opens the log (on a thread of its own: recovery reads and fsyncs), starts the transport and
  /// the peer. A group of one elects itself at once; for it this waits (up to 30 s) until its
  /// first entry is applied, so the server is ready when it says it started.
  ///
  /// - Parameter wrapLog: lets the server put a layer around the log (metrics).
  /// - Throws: `ConfigurationError` naming `listenAddressKey` when the transport or peer cannot
  ///   start; the log's own errors as they are.
  public static func start(
    _ settings: Settings, stateMachine: any ReplicatedStateMachine,
    wrapLog: @Sendable (DurableRaftLog) -> any RaftLogStore = { $0 }, group: any EventLoopGroup, logger: Logger,
    onFatalError: @escaping @Sendable (Error) -> Void
  ) async throws -> Started {
    let log = try await onOwnThread("raft-log-open") { [settings] in
      try DurableRaftLog.open(directory: settings.logDirectory, segmentSizeBytes: settings.segmentSizeBytes, logger: logger)
    }
    let local = settings.raft.raft.id
    let transport: RaftRPCTransport
    do {
      transport = try RaftRPCTransport(
        localPeer: local, listenHost: settings.listenAddress.host, listenPort: settings.listenAddress.port, group: group,
        logger: logger)
    } catch {
      log.close()
      throw ConfigurationError(key: settings.listenAddressKey, message: "\(error)")
    }
    for peer in settings.peers where peer.id != local {
      transport.setAddress("\(dialable(peer.address))", of: peer.id)
    }
    let raft: RaftServer
    do {
      raft = try await RaftServer.start(
        configuration: settings.raft, log: wrapLog(log), initialMembership: settings.initialMembership,
        stateMachine: stateMachine, transport: transport, logger: logger, onFatalError: onFatalError)
    } catch {
      log.close()
      throw ConfigurationError(key: settings.listenAddressKey, message: "\(error)")
    }
    if settings.initialMembership != nil && settings.peers.allSatisfy({ $0.id == local }) {
      let deadline = ContinuousClock.now + .seconds(30)
      while !raft.isLeaderReady && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
    }
    return Started(server: raft, port: transport.localPort)
  }

  /// A listening address as a peer dials it: 0.0.0.0 means this machine.
  public static func dialable(_ address: HostAndPort) -> HostAndPort {
    address.host == "0.0.0.0" ? HostAndPort(host: "127.0.0.1", port: address.port) : address
  }
}
