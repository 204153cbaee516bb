import Foundation
import Logging
import NIOCore
import NIOPosix
import O3Common
import O3RPC
import O3Service
import O3Threads
import Prometheus
import Raft
import RaftCore
import SCMDomain
import SCMMetadata
import SCMProto
import Synchronization

/// A running Storage Container Manager replica: scm.db, its Raft peer, the block port (the OM's),
/// the admin port and HTTP (status page, `/prom`). Built from the service kit as the OM is.
///
/// One code path for one SCM or three: a single SCM is a one-replica Raft group (Ozone's SCM always
/// runs Ratis). Only the leader serves requests; a follower refuses with the leader's address.
public final class StorageContainerManagerServer: Sendable {
  /// Everything the server needs from the configuration, parsed and checked up front.
  public struct Settings: Sendable {
    public var storage: SCMStorage
    public var service: SCMServiceConfiguration
    public var raftLogDirectory: String
    public var raft: RaftServerConfiguration
    public var segmentSizeBytes: Int
    /// `ozone.scm.sequence.id.batch.size` (1000).
    public var sequenceBatchSize: UInt64
    /// `ozone.scm.container.size` (5GB): no block is larger.
    public var containerSizeBytes: UInt64
    public var safeMode: SCMSafeModeSettings
    var nodes: SCMNodeManager.Settings
    public var rpcLimits = RPCLimits()
    public var httpLimits = O3HTTPServer.Limits()

    public init(configuration: OzoneConfiguration) throws {
      storage = try SCMStorage(configuration: configuration)
      service = try SCMServiceConfiguration(configuration: configuration)
      raftLogDirectory = configuration.string("ozone.scm.ha.ratis.storage.dir", default: "\(storage.metadataDirectory)/scm.ratis")
      var core = RaftConfiguration(id: service.local.peerID)
      let electionMilliseconds = try configuration.milliseconds("ozone.scm.ha.ratis.leader.election.timeout", default: 5_000)
      guard electionMilliseconds >= 20 else {
        throw ConfigurationError(key: "ozone.scm.ha.ratis.leader.election.timeout", message: "must be at least 20ms")
      }
      core.readMode = .readIndex
      raft = RaftServerConfiguration(raft: core)
      raft.tickMilliseconds = Int(electionMilliseconds) / core.electionTimeoutTicks
      raft.requestTimeoutMilliseconds = Int(try configuration.milliseconds("ozone.scm.ha.ratis.request.timeout", default: 30_000))
      segmentSizeBytes = Int(try configuration.bytes("ozone.scm.ha.ratis.segment.size", default: 4 << 20))
      let batch = try configuration.integer("ozone.scm.sequence.id.batch.size", default: 1000)
      guard batch > 0 else { throw ConfigurationError(key: "ozone.scm.sequence.id.batch.size", message: "must be at least 1") }
      sequenceBatchSize = UInt64(batch)
      let containerSize = try configuration.bytes("ozone.scm.container.size", default: 5 << 30)
      guard containerSize > 0 else { throw ConfigurationError(key: "ozone.scm.container.size", message: "must be positive") }
      containerSizeBytes = UInt64(containerSize)
      safeMode = try SCMSafeModeSettings(configuration: configuration)
      nodes = try SCMNodeManager.Settings(configuration: configuration)
    }

    /// The key that sets `base` for this SCM: `base.<service>.<node>` in a service, else `base`.
    func nodeKey(_ base: String) -> String {
      service.serviceID.map { "\(base).\($0).\(service.localNodeID)" } ?? base
    }
  }

  public let settings: Settings
  public let identity: (clusterID: String, scmID: String)
  public let raft: RaftServer
  /// Block local ids, container ids, …: handed out on the leader, a Raft-replicated batch at a time.
  public let sequenceIDs: SequenceIdGenerator
  let stateMachine: SCMStateMachine
  private let store: SCMMetadataStore
  private let blockServer: RPCServer
  private let clientServer: RPCServer
  private let datanodeServer: RPCServer
  private let httpServer: O3HTTPServer
  let nodes: SCMNodeManager
  /// Moves silent datanodes to STALE and DEAD.
  private let healthCheck: RepeatedTask
  private let raftPortBound: Int
  private let logger: Logger

  public var blockPort: Int { blockServer.localPort }
  public var clientPort: Int { clientServer.localPort }
  public var datanodePort: Int { datanodeServer.localPort }
  public var httpPort: Int { httpServer.localPort }
  public var raftPort: Int { raftPortBound }

  private init(
    settings: Settings, identity: (clusterID: String, scmID: String), raft: RaftServer, sequenceIDs: SequenceIdGenerator,
    stateMachine: SCMStateMachine, store: SCMMetadataStore, blockServer: RPCServer, clientServer: RPCServer,
    datanodeServer: RPCServer, httpServer: O3HTTPServer, raftPort: Int, nodes: SCMNodeManager, healthCheck: RepeatedTask,
    logger: Logger
  ) {
    self.datanodeServer = datanodeServer
    self.nodes = nodes
    self.healthCheck = healthCheck
    self.settings = settings
    self.identity = identity
    self.raft = raft
    self.sequenceIDs = sequenceIDs
    self.stateMachine = stateMachine
    self.store = store
    self.blockServer = blockServer
    self.clientServer = clientServer
    self.httpServer = httpServer
    self.raftPortBound = raftPort
    self.logger = logger
  }

  /// Opens scm.db, joins the Raft group and starts serving (block port, admin port, HTTP).
  ///
  /// - Parameter onFatalError: called when apply or the log fails; the process must stop.
  public static func start(
    settings: Settings, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
    logger: Logger = Logger(label: "o3.scm"),
    onFatalError: @escaping @Sendable (Error) -> Void = StorageContainerManagerServer.exitOnFatalError
  ) async throws -> StorageContainerManagerServer {
    let version = try settings.storage.readVersion()
    let identity = SCMIdentity(clusterID: version.clusterID, scmID: version.scmID)
    // Opening RocksDB reads and fsyncs files: on a thread of its own, not the cooperative pool.
    let store = try await onOwnThread("scm-open") { [path = settings.storage.databasePath] in try SCMMetadataStore.open(path: path) }
    do {
      let stateMachine = try SCMStateMachine(store: store)
      let leadershipBox = LeadershipBox()
      let sequenceIDs = SequenceIdGenerator(batchSize: settings.sequenceBatchSize, stateMachine: stateMachine) {
        (request: SCMRatisRequest) async throws(SCMServiceError) -> SCMRatisResponse in
        guard let leadership = leadershipBox.value else { throw SCMServiceError(.scmNotLeader, "this SCM is still starting") }
        let bytes: [UInt8]
        do {
          bytes = try request.serializedBytes()
        } catch {
          throw SCMServiceError(.internalError, "cannot encode the request: \(error)")
        }
        let answer = try await leadership.propose(SCMRatisRequestProposal(bytes: bytes, port: { $0.blockAddress }))
        do {
          return try SCMRatisResponse(serializedBytes: answer)
        } catch {
          throw SCMServiceError(.internalError, "the state machine's answer does not decode: \(error)")
        }
      }
      let local = settings.service.local.peerID
      let raftStateMachine = SCMRaftStateMachine(stateMachine: stateMachine) { leader, _ in
        // A new leader continues above every id an earlier one may have handed out.
        if leader == local { sequenceIDs.invalidate() }
      }
      let service = settings.service
      let started = try await RaftGroupHost.start(
        RaftGroupHost.Settings(
          logDirectory: settings.raftLogDirectory, segmentSizeBytes: settings.segmentSizeBytes,
          listenAddress: service.local.raftAddress, listenAddressKey: settings.nodeKey("ozone.scm.ratis.port"),
          peers: service.nodes.map { (id: $0.peerID, address: $0.raftAddress) },
          initialMembership: Membership(voters: service.nodes.map(\.peerID).sorted(), learners: []), raft: settings.raft),
        stateMachine: raftStateMachine, group: group, logger: logger, onFatalError: onFatalError)
      let leadership = SCMLeadership(raft: started.server, stateMachine: raftStateMachine, service: service)
      leadershipBox.value = leadership
      let nodes = SCMNodeManager(settings: settings.nodes, clusterID: identity.clusterID, logger: logger)
      let safeMode = SCMSafeMode(settings: settings.safeMode) { nodes.registeredCount }
      var blockRouter = RPCRouter()
      SCMBlockService(
        leadership: leadership, identity: identity, safeMode: safeMode, containerSizeBytes: settings.containerSizeBytes
      ).register(into: &blockRouter)
      var adminRouter = RPCRouter()
      SCMAdminService(leadership: leadership, identity: identity, nodes: nodes, safeMode: safeMode, boundRaftPort: started.port)
        .register(into: &adminRouter)
      var datanodeRouter = RPCRouter()
      SCMDatanodeService(nodes: nodes, identity: identity).register(into: &datanodeRouter)
      var servers: [RPCServer] = []
      do {
        servers.append(
          try await ServiceRPCServer.start(
            service.local.blockAddress, key: settings.nodeKey("ozone.scm.block.client.port"), router: blockRouter,
            limits: settings.rpcLimits, group: group))
        servers.append(
          try await ServiceRPCServer.start(
            service.local.clientAddress, key: settings.nodeKey("ozone.scm.client.port"), router: adminRouter,
            limits: settings.rpcLimits, group: group))
        servers.append(
          try await ServiceRPCServer.start(
            service.local.datanodeAddress, key: settings.nodeKey("ozone.scm.datanode.port"), router: datanodeRouter,
            limits: settings.rpcLimits, group: group))
        let http = try await startHTTP(
          settings, leadership: leadership, safeMode: safeMode, nodes: nodes, identity: identity, group: group)
        logger.info(
          "SCM started",
          metadata: [
            "node": "\(service.localNodeID)", "cluster": "\(identity.clusterID)",
            "block": "\(service.local.blockAddress.host):\(servers[0].localPort)",
            "client": "\(service.local.clientAddress.host):\(servers[1].localPort)",
            "datanode": "\(service.local.datanodeAddress.host):\(servers[2].localPort)",
            "raft": "\(service.local.raftAddress.host):\(started.port)",
            "http": "\(service.local.httpAddress.host):\(http.localPort)", "db": "\(store.path)",
            "applied": "\(stateMachine.applied)",
          ])
        return StorageContainerManagerServer(
          settings: settings, identity: (identity.clusterID, identity.scmID), raft: started.server, sequenceIDs: sequenceIDs,
          stateMachine: stateMachine, store: store, blockServer: servers[0], clientServer: servers[1],
          datanodeServer: servers[2], httpServer: http, raftPort: started.port, nodes: nodes,
          healthCheck: group.next().scheduleRepeatedTask(
            initialDelay: .milliseconds(settings.nodes.checkMilliseconds), delay: .milliseconds(settings.nodes.checkMilliseconds)
          ) { _ in nodes.checkHealth() },
          logger: logger)
      } catch {
        for server in servers { try? await server.shutdown() }
        await started.server.shutdown()
        throw error
      }
    } catch {
      await onOwnThread("scm-close") { store.close() }
      throw error
    }
  }

  /// The status page and `/prom`.
  private static func startHTTP(
    _ settings: Settings, leadership: SCMLeadership, safeMode: SCMSafeMode, nodes: SCMNodeManager, identity: SCMIdentity,
    group: any EventLoopGroup
  ) async throws -> O3HTTPServer {
    let registry = PrometheusCollectorRegistry()
    let safeModeGauge = registry.makeGauge(name: "o3_scm_safe_mode", help: "1 while SCM is in safe mode.")
    let leaderGauge = registry.makeGauge(name: "o3_scm_is_leader", help: "1 while this SCM leads its Raft group.")
    let appliedGauge = registry.makeGauge(name: "o3_scm_raft_applied_index", help: "The last Raft index this SCM applied.")
    let nodeGauges = [SCMNodeState.healthy, .stale, .dead].map { state in
      (state, registry.makeGauge(name: "o3_scm_datanodes", labels: [("state", "\(state)".uppercased())], help: "Datanodes SCM knows, by health."))
    }
    var routes = O3HTTPRoutes()
    routes.addStandardPages(
      statusPage: { await SCMStatusPage.render(leadership: leadership, safeMode: safeMode, nodes: nodes, identity: identity) },
      metrics: registry,
      beforeScrape: {
        safeModeGauge.set(Double(safeMode.inSafeMode ? 1 : 0))
        leaderGauge.set(Double(leadership.raft.isLeaderReady ? 1 : 0))
        appliedGauge.set(Double(leadership.stateMachine.stateMachine.applied.index))
        for (state, gauge) in nodeGauges { gauge.set(Double(nodes.count(in: state))) }
      })
    let address = settings.service.local.httpAddress
    do {
      return try await O3HTTPServer.start(
        host: address.host, port: address.port, routes: routes, limits: settings.httpLimits,
        logger: Logger(label: "o3.scm.http"), group: group)
    } catch {
      throw ConfigurationError(key: settings.nodeKey("ozone.scm.http-address"), message: "cannot listen for HTTP on \(address): \(error)")
    }
  }

  /// Stops serving, stops Raft (after the apply thread's queued work) and closes the database.
  public func shutdown() async {
    healthCheck.cancel()
    await httpServer.shutdown()
    try? await blockServer.shutdown()
    try? await clientServer.shutdown()
    try? await datanodeServer.shutdown()
    await raft.shutdown()
    let store = self.store
    await onOwnThread("scm-stop") { store.close() }
    logger.info("SCM stopped", metadata: ["applied": "\(stateMachine.applied)"])
  }

  /// The default fatal-error action: say why, then stop the process.
  public static let exitOnFatalError: @Sendable (Error) -> Void = { error in
    Logger(label: "o3.scm").critical("stopping the SCM: apply or the Raft log failed and continuing could diverge: \(error)")
    exit(1)
  }
}

/// The leadership view, set once Raft has started (the sequence generator is built before).
private final class LeadershipBox: Sendable {
  private let box = Mutex<SCMLeadership?>(nil)
  var value: SCMLeadership? {
    get { box.withLock { $0 } }
    set { box.withLock { $0 = newValue } }
  }
}
