import Foundation
import Logging
import NIOCore
import NIOPosix
import O3Common
import O3Threads
import O3RPC
import O3Service
import OMDomain
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

    /// Where the status page and `/prom` are served (`ozone.om.http-address[.<svc>.<node>]`).
    ///
    /// When the key is not set and the client port is 0 (a test asking for free ports), the
    /// HTTP port is 0 too, so that such OMs never collide on Ozone's default 9874.
    public var httpAddress: HostAndPort
    public var httpLimits = O3HTTPServer.Limits()
    /// `ozone.om.checkpoint.token`: OMs of the service send it to fetch a checkpoint.
    public var checkpointToken: String?
    /// Applied last to every checkpoint download this OM makes as a follower; fault tests plant
    /// their free-space probe, write hook or wrong token here. Production leaves it alone.
    public var adjustCheckpointDownload: @Sendable (inout CheckpointDownloader.Configuration) -> Void = { _ in }
    /// Joins a running group (`o3 om --bootstrap`, or storage with `OMJoinMarker`): an empty
    /// Raft log starts with no members, so this OM never campaigns and waits to be added.
    public var joinsExistingGroup = false
    /// Re-reads the configuration (the file as it is now, with the command line's overrides), to
    /// learn OMs added to the service while this one runs. Defaults to the configuration given.
    public var reloadConfiguration: @Sendable () throws -> OzoneConfiguration

    /// The client address this OM listens on.
    public var address: HostAndPort { service.local.clientAddress }

    public init(configuration: OzoneConfiguration) throws {
      storage = try OMStorage(configuration: configuration)
      service = try OMServiceConfiguration(configuration: configuration)
      reloadConfiguration = { configuration }
      httpAddress = service.local.httpAddress
      checkpointToken = configuration[OMCheckpointService.tokenConfigurationKey]
      if configuration[Self.nodeKey("ozone.om.http-address", service)] == nil && service.local.clientAddress.port == 0 {
        httpAddress.port = 0
      }
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

    /// The key that sets `base` for this OM: `base.<service>.<node>` in a service, else `base`.
    static func nodeKey(_ base: String, _ service: OMServiceConfiguration) -> String {
      service.serviceID.map { "\(base).\($0).\(service.localNodeID)" } ?? base
    }

    func nodeKey(_ base: String) -> String { Self.nodeKey(base, service) }

    /// Ozone's Raft keys: the minimum election timeout (`ozone.om.ratis.minimum.timeout`, 5 s)
    /// is ten ticks; `ozone.om.ha.raft.server.read.option` / `...read.leader.lease.enabled`
    /// choose lease reads; a snapshot every `ozone.om.ratis.snapshot.auto.trigger.threshold`
    /// entries, and `ozone.om.ratis.log.purge.gap` entries kept behind it (`RaftLogRetention`).
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
      let purgeGap = try configuration.integer("ozone.om.ratis.log.purge.gap", default: 1_000_000)
      guard purgeGap >= 0 else { throw ConfigurationError(key: "ozone.om.ratis.log.purge.gap", message: "must not be negative") }
      raft.purgeGap = UInt64(purgeGap)
      let threshold = try configuration.integer("ozone.om.ratis.snapshot.auto.trigger.threshold", default: 400_000)
      guard threshold > 0 else {
        throw ConfigurationError(key: "ozone.om.ratis.snapshot.auto.trigger.threshold", message: "must be at least 1")
      }
      raft.snapshotAutoTriggerThreshold = UInt64(threshold)
      raft.requestTimeoutMilliseconds = Int(
        try configuration.milliseconds("ozone.om.ratis.server.request.timeout", default: 3_000))
      return raft
    }
  }

  public let settings: Settings
  public let store: OMMetadataStore
  public let raft: RaftServer
  /// This OM's metrics, served at `/prom`.
  public let metrics: OMMetrics
  private let doubleBuffer: OMDoubleBuffer
  private let rpcServer: RPCServer
  private let httpServer: O3HTTPServer
  private let reporter: OMStatusReporter
  private let installer: OMCheckpointInstaller
  /// Frees expired retry-cache answers while no writes arrive.
  private let retryCacheSweep: RepeatedTask
  private let logger: Logger

  /// How many checkpoints this OM installed from a leader (to catch up past its purged log)
  /// since it started.
  public var installedCheckpointCount: Int { installer.installCount }

  /// The port the client RPC server listens on (useful when configured as 0).
  public var port: Int { rpcServer.localPort }
  /// The port the HTTP server (status page, `/prom`) listens on.
  public var httpPort: Int { httpServer.localPort }

  /// This OM's Raft role, term and indexes as `o3 admin om roles` shows them; nil once stopped.
  public func status() async -> OMNodeStatus? { await reporter.status() }

  private init(
    settings: Settings, store: OMMetadataStore, doubleBuffer: OMDoubleBuffer, raft: RaftServer, metrics: OMMetrics,
    rpcServer: RPCServer, httpServer: O3HTTPServer, reporter: OMStatusReporter, installer: OMCheckpointInstaller,
    retryCacheSweep: RepeatedTask, logger: Logger
  ) {
    self.installer = installer
    self.retryCacheSweep = retryCacheSweep
    self.settings = settings
    self.store = store
    self.doubleBuffer = doubleBuffer
    self.raft = raft
    self.metrics = metrics
    self.rpcServer = rpcServer
    self.httpServer = httpServer
    self.reporter = reporter
    self.logger = logger
  }

  /// Opens the database and the Raft log, joins the Raft group and starts serving clients
  /// (client RPC with the admin methods, and HTTP).
  ///
  /// - Parameter onFatalError: called when apply, flush or the log fails; the process must
  ///   stop (the default logs and exits), because a replica that cannot persist must not keep
  ///   answering.
  public static func start(
    settings: Settings, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, logger: Logger = Logger(label: "o3.om"),
    clock: @escaping @Sendable () -> UInt64 = { UInt64(Date().timeIntervalSince1970 * 1000) },
    onFatalError: @escaping @Sendable (Error) -> Void = OzoneManagerServer.exitOnFatalError
  ) async throws -> OzoneManagerServer {
    try settings.storage.requireInitialized()
    // Opening RocksDB reads and fsyncs files: on a thread of its own, not the cooperative pool.
    let (store, recovered, flushed) = try await onOwnThread("om-open") { [databasePath = settings.storage.databasePath] in
      let (store, recovered) = try OMMetadataStore.openRecovering(path: databasePath)
      return (store, recovered, try store.transactionInfo())
    }
    for action in recovered { logger.warning("recovering om.db after an interrupted checkpoint install: \(action)") }
    let metrics = OMMetrics(flushedIndex: flushed.index)
    // Under Raft the log is the write-ahead log: RocksDB batches need no fsync.
    let doubleBuffer = OMDoubleBuffer(
      store: store, maxUnflushedTransactions: settings.maxUnflushedTransactions, syncWrites: false,
      flushedUpTo: flushed, onFlushed: { metrics.observeFlush(through: $0.index) }, onFatalError: onFatalError)
    doubleBuffer.start()
    do {
      let retryCache = RetryCache(expirySeconds: settings.retryCacheExpirySeconds)
      let installer = OMCheckpointInstaller(
        service: settings.service, token: settings.checkpointToken, store: store, doubleBuffer: doubleBuffer, group: group,
        logger: logger, metrics: metrics.checkpointInstall, adjustDownload: settings.adjustCheckpointDownload,
        onFatalError: onFatalError)
      let membership = try OMRaftStateMachine.recordedMembership(
        in: store, configured: Membership(voters: settings.service.nodes.map(\.peerID)))
      let stateMachine = OMRaftStateMachine(
        stateMachine: OMStateMachine(
          store: store, doubleBuffer: doubleBuffer,
          prepareState: try OMPrepareState.restore(from: store, storage: settings.storage, logger: logger)),
        retryCache: retryCache,
        installer: installer, membership: membership, limits: settings.requestLimits, logger: logger
      ) { [service = settings.service, reload = settings.reloadConfiguration] in
        OMMembershipService.learnUnknownMembers($0, service: service, reloadConfiguration: reload, logger: logger)
      }
      let (raft, raftPort) = try await startRaft(
        settings, stateMachine: TimedStateMachine(stateMachine, metrics: metrics), metrics: metrics, group: group,
        logger: logger, onFatalError: onFatalError)
      installer.setLeaderLookup { await raft.status()?.core.leader }
      let reporter = OMStatusReporter(
        raft: raft, service: settings.service, doubleBuffer: doubleBuffer, httpAddress: settings.httpAddress,
        checkpointInstall: { [checkpointInstall = metrics.checkpointInstall] in checkpointInstall.current })
      let service = OMClientService(
        raft: raft, service: settings.service, stateMachine: stateMachine, retryCache: retryCache,
        limits: settings.requestLimits, clock: clock, metrics: metrics)
      let servers: (rpc: RPCServer, http: O3HTTPServer)
      do {
        servers = try await startServers(
          settings,
          router: router(
            service,
            OMAdminService(
              reporter: reporter, transferTimeout: transferTimeout(settings), reloadConfiguration: settings.reloadConfiguration,
              heartbeatInterval: .milliseconds(settings.raft.tickMilliseconds * settings.raft.raft.heartbeatIntervalTicks),
              logger: logger)),
          reporter: reporter, metrics: metrics, store: store, doubleBuffer: doubleBuffer, retryCache: retryCache, raft: raft,
          group: group)
      } catch {
        await raft.shutdown()
        throw error
      }
      reporter.setBoundPorts(client: servers.rpc.localPort, raft: raftPort, http: servers.http.localPort)
      logger.info(
        "OM started",
        metadata: [
          "node": "\(settings.service.localNodeID)",
          "address": "\(settings.address.host):\(servers.rpc.localPort)",
          "raft": "\(settings.service.local.raftAddress.host):\(raftPort)",
          "http": "\(settings.httpAddress.host):\(servers.http.localPort)", "db": "\(store.path)", "applied": "\(flushed)",
        ])
      return OzoneManagerServer(
        settings: settings, store: store, doubleBuffer: doubleBuffer, raft: raft, metrics: metrics, rpcServer: servers.rpc,
        httpServer: servers.http, reporter: reporter, installer: installer,
        retryCacheSweep: group.next().scheduleRepeatedTask(
          initialDelay: RetryCache.sweepInterval, delay: RetryCache.sweepInterval) { _ in retryCache.expire() },
        logger: logger)
    } catch {
      doubleBuffer.stop()
      store.close()
      throw error
    }
  }

  /// Hosts the OM's Raft group (`RaftGroupHost`): its log under `ozone.om.ratis.storage.dir`, its
  /// transport on `ozone.om.ratis.port`; returns the peer and its bound port.
  private static func startRaft(
    _ settings: Settings, stateMachine: any ReplicatedStateMachine, metrics: OMMetrics, group: any EventLoopGroup,
    logger: Logger, onFatalError: @escaping @Sendable (Error) -> Void
  ) async throws -> (RaftServer, Int) {
    let service = settings.service
    let host = RaftGroupHost.Settings(
      logDirectory: settings.raftLogDirectory, segmentSizeBytes: settings.segmentSizeBytes,
      listenAddress: service.local.raftAddress, listenAddressKey: settings.nodeKey("ozone.om.ratis.port"),
      peers: service.nodes.map { (id: $0.peerID, address: $0.raftAddress) },
      initialMembership: settings.joinsExistingGroup || OMJoinMarker.isPresent(settings.storage)
        ? nil : Membership(voters: service.nodes.map(\.peerID).sorted(), learners: []),
      raft: settings.raft)
    let started = try await RaftGroupHost.start(
      host, stateMachine: stateMachine, wrapLog: { TimedRaftLogStore($0, metrics: metrics) }, group: group, logger: logger,
      onFatalError: onFatalError)
    return (started.server, started.port)
  }

  /// The client port's methods: the OM protocol and the admin protocol.
  private static func router(_ service: OMClientService, _ admin: OMAdminService) -> RPCRouter {
    var router = RPCRouter()
    router.register(OMClientService.submitMethod) { payload, context, responder in
      service.handle(method: OMClientService.submitMethod, payload: payload, context: context, responder: responder)
    }
    admin.register(into: &router)
    return router
  }

  /// Starts the client RPC server, then the HTTP server; a failure names the key of the port.
  private static func startServers(
    _ settings: Settings, router: RPCRouter, reporter: OMStatusReporter, metrics: OMMetrics,
    store: OMMetadataStore, doubleBuffer: OMDoubleBuffer, retryCache: RetryCache, raft: RaftServer, group: any EventLoopGroup
  ) async throws -> (rpc: RPCServer, http: O3HTTPServer) {
    let rpcServer = try await ServiceRPCServer.start(
      settings.service.local.clientAddress, key: settings.nodeKey(OzoneConfigKeys.omAddress), router: router,
      limits: settings.rpcLimits, group: group)
    let service = settings.service
    var routes = O3HTTPRoutes()
    routes.addStandardPages(
      statusPage: { OMStatusPage.render(await reporter.status(), service: service) }, metrics: metrics.registry,
      beforeScrape: {
        metrics.update(
          OMMetrics.Sample(
            status: await reporter.status(), blockedApplies: doubleBuffer.blockedAddCount, rpc: rpcServer.statistics,
            raftLog: raft.logDiskUsage, lastSnapshotIndex: raft.lastSnapshot.index,
            tableCacheEntries: store.cacheEntryCounts, doubleBufferPendingEntries: doubleBuffer.pendingChangeCount,
            retryCacheEntries: retryCache.count))
      })
    let checkpoint = OMCheckpointService(
      source: OMCheckpointSource(store: store, doubleBuffer: doubleBuffer) { try store.createCheckpoint(at: $0) },
      token: settings.checkpointToken
    ) {
      guard let status = await raft.status() else { return .notLeader(leaderAddress: nil) }
      if status.core.role == .leader && status.isLeaderReady { return .leader }
      let leader = status.core.leader.flatMap { service.node(withPeerID: $0) }
      return .notLeader(leaderAddress: leader.map { "\(OMAdminClient.dialable($0.httpAddress))" })
    }
    checkpoint.register(into: &routes)
    do {
      let http = try await O3HTTPServer.start(
        host: settings.httpAddress.host, port: settings.httpAddress.port, routes: routes, limits: settings.httpLimits,
        logger: Logger(label: "o3.om.http"), group: group)
      return (rpcServer, http)
    } catch {
      try? await rpcServer.shutdown()
      throw ConfigurationError(
        key: settings.nodeKey("ozone.om.http-address"),
        message: "cannot listen for HTTP on \(settings.httpAddress): \(error)")
    }
  }

  /// A transfer is abandoned by the Raft core after one election timeout (at most twice the
  /// configured minimum); waiting for a few of them tells a slow transfer from a failed one.
  private static func transferTimeout(_ settings: Settings) -> Duration {
    let electionMilliseconds = settings.raft.tickMilliseconds * settings.raft.raft.electionTimeoutTicks
    return .milliseconds(max(5_000, 4 * electionMilliseconds))
  }

  /// Stops accepting calls, stops Raft (after the apply thread's queued work), flushes what was
  /// applied, and closes the database.
  public func shutdown() async {
    retryCacheSweep.cancel()
    await httpServer.shutdown()
    try? await rpcServer.shutdown()
    await raft.shutdown()
    let (doubleBuffer, store) = (self.doubleBuffer, self.store)
    await onOwnThread("om-stop") {
      doubleBuffer.stop()
      store.close()
    }
    logger.info("OM stopped", metadata: ["flushed": "\(doubleBuffer.flushedTermIndex)"])
  }

  /// The default fatal-error action: say why, then stop the process (Ozone's ExitUtils.terminate).
  public static let exitOnFatalError: @Sendable (Error) -> Void = { error in
    Logger(label: "o3.om").critical("stopping the OM: apply, flush or the Raft log failed and continuing could diverge: \(error)")
    exit(1)
  }
}
