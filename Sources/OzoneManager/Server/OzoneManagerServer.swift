import Foundation
import Logging
import NIOCore
import NIOPosix
import O3Common
import O3RPC
import OMMetadata
import Raft
import RaftCore
import RaftRPC

/// A running Ozone Manager replica: its database, double buffer, Raft peer and client RPC server.
///
/// One code path for one OM or three: a single OM is a one-replica Raft group (Ozone 2.x does
/// the same), so its writes are durable in the Raft log before they are answered.
public final class OzoneManagerServer: Sendable {
  /// Everything the server needs from the configuration, parsed and checked up front.
  public struct Settings: Sendable {
    public var storage: OMStorage
    public var service: OMServiceConfiguration
    public var raftLogDirectory: String
    public var maxUnflushedTransactions: Int
    public var requestLimits = OMRequestLimits()
    public var rpcLimits = RPCLimits()
    public var raft: RaftServerConfiguration
    public var segmentSizeBytes: Int
    public var retryCacheExpirySeconds: Double

    /// The client address this OM listens on.
    public var address: HostAndPort { service.local.clientAddress }

    public init(configuration: OzoneConfiguration) throws {
      storage = try OMStorage(configuration: configuration)
      service = try OMServiceConfiguration(configuration: configuration)
      raftLogDirectory = configuration.string("ozone.om.ratis.storage.dir", default: "\(storage.metadataDirectory)/om.ratis")
      maxUnflushedTransactions = try configuration.integer(
        OzoneConfigKeys.unflushedTransactionMaxCount, default: OzoneConfigKeys.unflushedTransactionMaxCountDefault)
      guard maxUnflushedTransactions > 0 else {
        throw ConfigurationError(key: OzoneConfigKeys.unflushedTransactionMaxCount, message: "must be positive")
      }
      requestLimits.listMaxSize = try configuration.integer(
        OzoneConfigKeys.listMaxSize, default: OzoneConfigKeys.listMaxSizeDefault)
      guard requestLimits.listMaxSize > 0 else {
        throw ConfigurationError(key: OzoneConfigKeys.listMaxSize, message: "must be positive")
      }
      requestLimits.strictS3Names = try configuration.boolean(OzoneConfigKeys.namespaceStrictS3, default: true)
      let maxRequestBytes = try configuration.bytes(
        OzoneConfigKeys.maxRequestBytes, default: OzoneConfigKeys.maxRequestBytesDefault)
      guard (1024...Int64(Int32.max)).contains(maxRequestBytes) else {
        throw ConfigurationError(key: OzoneConfigKeys.maxRequestBytes, message: "must be between 1KB and 2GB")
      }
      rpcLimits.maxFrameBytes = Int(maxRequestBytes)
      raft = try Self.raftConfiguration(configuration, peer: service.local.peerID)
      segmentSizeBytes = Int(try configuration.bytes("ozone.om.ratis.segment.size", default: 64 << 20))
      retryCacheExpirySeconds =
        Double(try configuration.milliseconds("ozone.om.ha.raft.server.retrycache.expirytime", default: 300_000)) / 1000
    }

    /// Ozone's Raft keys: the minimum election timeout (`ozone.om.ratis.minimum.timeout`, 5 s)
    /// is ten ticks; `ozone.om.ha.raft.server.read.option` / `...read.leader.lease.enabled`
    /// choose lease reads; `ozone.om.ratis.log.purge.gap` keeps entries behind the applied index.
    private static func raftConfiguration(_ configuration: OzoneConfiguration, peer: PeerID) throws -> RaftServerConfiguration {
      var core = RaftConfiguration(id: peer)
      let electionMilliseconds = try configuration.milliseconds("ozone.om.ratis.minimum.timeout", default: 5_000)
      guard electionMilliseconds >= 20 else {
        throw ConfigurationError(key: "ozone.om.ratis.minimum.timeout", message: "must be at least 20ms")
      }
      let lease = try configuration.boolean("ozone.om.ha.raft.server.read.leader.lease.enabled", default: false)
        || configuration.string("ozone.om.ha.raft.server.read.option", default: "LINEARIZABLE").uppercased() == "LEADER_LEASE"
      core.readMode = lease ? .leaseBased : .readIndex
      var raft = RaftServerConfiguration(raft: core)
      raft.tickMilliseconds = Int(electionMilliseconds) / core.electionTimeoutTicks
      raft.purgeGap = UInt64(try configuration.integer("ozone.om.ratis.log.purge.gap", default: 1_000_000))
      return raft
    }
  }

  public let settings: Settings
  public let store: OMMetadataStore
  public let raft: RaftServer
  private let doubleBuffer: OMDoubleBuffer
  private let rpcServer: RPCServer
  private let logger: Logger

  /// The port the client RPC server listens on (useful when configured as 0).
  public var port: Int { rpcServer.localPort }

  private init(
    settings: Settings, store: OMMetadataStore, doubleBuffer: OMDoubleBuffer, raft: RaftServer, rpcServer: RPCServer,
    logger: Logger
  ) {
    self.settings = settings
    self.store = store
    self.doubleBuffer = doubleBuffer
    self.raft = raft
    self.rpcServer = rpcServer
    self.logger = logger
  }

  /// Opens the database and the Raft log, joins the Raft group and starts serving clients.
  ///
  /// - Parameter onFatalError: called when apply, flush or the log fails; the process must
  ///   stop (the default logs and exits), because a replica that cannot persist must not keep
  ///   answering.
  public static func start(
    settings: Settings, group: any EventLoopGroup, logger: Logger = Logger(label: "o3.om"),
    clock: @escaping @Sendable () -> UInt64 = { UInt64(Date().timeIntervalSince1970 * 1000) },
    onFatalError: @escaping @Sendable (Error) -> Void = OzoneManagerServer.exitOnFatalError
  ) async throws -> OzoneManagerServer {
    try settings.storage.requireInitialized()
    let store = try OMMetadataStore.open(path: settings.storage.databasePath)
    let flushed = try store.transactionInfo()
    // Under Raft the log is the write-ahead log: RocksDB batches need no fsync.
    let doubleBuffer = OMDoubleBuffer(
      store: store, maxUnflushedTransactions: settings.maxUnflushedTransactions, syncWrites: false,
      flushedUpTo: flushed, onFatalError: onFatalError)
    doubleBuffer.start()
    do {
      let local = settings.service.local
      let retryCache = RetryCache(expirySeconds: settings.retryCacheExpirySeconds)
      let stateMachine = OMRaftStateMachine(
        stateMachine: OMStateMachine(store: store, doubleBuffer: doubleBuffer), retryCache: retryCache,
        limits: settings.requestLimits, logger: logger)
      let log = try DurableRaftLog.open(
        directory: settings.raftLogDirectory, segmentSizeBytes: settings.segmentSizeBytes, logger: logger)
      let transport = try RaftRPCTransport(
        localPeer: local.peerID, listenHost: local.raftAddress.host, listenPort: local.raftAddress.port, group: group,
        logger: logger)
      for node in settings.service.nodes where node.nodeID != local.nodeID {
        transport.setAddress(Self.connectable(node.raftAddress), of: node.peerID)
      }
      let raft: RaftServer
      do {
        raft = try await RaftServer.start(
          configuration: settings.raft, log: log,
          initialMembership: Membership(voters: settings.service.nodes.map(\.peerID).sorted(), learners: []),
          stateMachine: stateMachine, transport: transport, logger: logger, onFatalError: onFatalError)
      } catch {
        throw ConfigurationError(key: "ozone.om.ratis.port", message: "\(error)")
      }
      if settings.service.nodes.count == 1 {
        // A group of one elects itself at once; wait for its first entry to apply so that the
        // OM is ready when it says it started.
        let deadline = Date().addingTimeInterval(30)
        while !raft.isLeaderReady && Date() < deadline { try await Task.sleep(for: .milliseconds(5)) }
      }
      let service = OMClientService(
        raft: raft, service: settings.service, stateMachine: stateMachine, retryCache: retryCache,
        limits: settings.requestLimits, clock: clock)
      let rpcServer: RPCServer
      do {
        rpcServer = try await RPCServer.start(
          host: local.clientAddress.host, port: local.clientAddress.port, handler: service, limits: settings.rpcLimits,
          group: group)
      } catch {
        await raft.shutdown()
        throw ConfigurationError(key: OzoneConfigKeys.omAddress, message: "\(error)")
      }
      logger.info(
        "OM started",
        metadata: [
          "node": "\(local.nodeID)", "address": "\(local.clientAddress.host):\(rpcServer.localPort)",
          "raft": "\(local.raftAddress.host):\(transport.localPort)", "db": "\(store.path)", "applied": "\(flushed)",
        ])
      return OzoneManagerServer(
        settings: settings, store: store, doubleBuffer: doubleBuffer, raft: raft, rpcServer: rpcServer, logger: logger)
    } catch {
      doubleBuffer.stop()
      store.close()
      throw error
    }
  }

  /// A listening address as a peer dials it (0.0.0.0 means this machine).
  static func connectable(_ address: HostAndPort) -> String {
    address.host == "0.0.0.0" ? "127.0.0.1:\(address.port)" : "\(address)"
  }

  /// Stops accepting calls, stops Raft (after the apply thread's queued work), flushes what was
  /// applied, and closes the database.
  public func shutdown() async {
    try? await rpcServer.shutdown()
    await raft.shutdown()
    doubleBuffer.stop()
    store.close()
    logger.info("OM stopped", metadata: ["flushed": "\(doubleBuffer.flushedTermIndex)"])
  }

  /// The default fatal-error action: say why, then stop the process (Ozone's ExitUtils.terminate).
  public static let exitOnFatalError: @Sendable (Error) -> Void = { error in
    Logger(label: "o3.om").critical("stopping the OM: apply, flush or the Raft log failed and continuing could diverge: \(error)")
    exit(1)
  }
}
