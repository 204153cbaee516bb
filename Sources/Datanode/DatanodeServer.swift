import Foundation
import Logging
import NIOCore
import NIOPosix
import O3Common
import O3Service
import O3Threads
import Prometheus
import SCMProto
import StorageContainerManager
import Synchronization

/// What a datanode needs from the configuration, parsed and checked up front.
public struct DatanodeSettings: Sendable {
  /// `hdds.datanode.dir`: the data volumes, one directory each.
  public var volumeDirectories: [String]
  /// `<ozone.scm.datanode.id.dir, else ozone.metadata.dirs>/datanode.id`.
  public var identityFile: String
  /// Every SCM's datanode port (`ozone.scm.datanode.address` / the service's nodes, 9861).
  public var scmAddresses: [HostAndPort]
  /// `hdds.heartbeat.interval` (30s) once registered; `hdds.heartbeat.initial-interval` (2s) before.
  public var heartbeatInterval: Duration
  public var initialHeartbeatInterval: Duration
  /// `ozone.scm.heartbeat.rpc-timeout` (5s).
  public var rpcTimeout: TimeAmount
  /// `hdds.datanode.http-address` (0.0.0.0:9882): status page and `/prom`.
  public var httpAddress: HostAndPort
  public var hostName: String

  public init(configuration: OzoneConfiguration) throws {
    let volumes = configuration.string("hdds.datanode.dir", default: "").split(separator: ",").map {
      $0.trimmingCharacters(in: .whitespaces)
    }.filter { !$0.isEmpty }
    guard !volumes.isEmpty else {
      throw ConfigurationError(key: "hdds.datanode.dir", message: "is not set; it lists the directories this datanode keeps data in")
    }
    volumeDirectories = volumes
    let metadata = configuration.string(OzoneConfigKeys.metadataDirs, default: "").split(separator: ",").first.map(String.init)
    guard let idDirectory = configuration["ozone.scm.datanode.id.dir"] ?? metadata, !idDirectory.isEmpty else {
      throw ConfigurationError(
        key: OzoneConfigKeys.metadataDirs, message: "is not set (nor ozone.scm.datanode.id.dir); it is where the datanode keeps datanode.id")
    }
    identityFile = "\(idDirectory)/datanode.id"
    scmAddresses = try SCMServiceConfiguration(configuration: configuration, requireLocalNode: false).nodes.map(\.datanodeAddress)
    heartbeatInterval = .milliseconds(try configuration.milliseconds("hdds.heartbeat.interval", default: 30_000))
    initialHeartbeatInterval = .milliseconds(try configuration.milliseconds("hdds.heartbeat.initial-interval", default: 2_000))
    rpcTimeout = .milliseconds(try configuration.milliseconds("ozone.scm.heartbeat.rpc-timeout", default: 5_000))
    httpAddress = try configuration.hostAndPort("hdds.datanode.http-address", defaultHost: "0.0.0.0", defaultPort: 9882)
    hostName = configuration.string("hdds.datanode.hostname", default: ProcessInfo.processInfo.hostName)
  }
}

/// What the SCM endpoints share: the identity, the volumes and the cluster they joined.
final class DatanodeContext: Sendable {
  let settings: DatanodeSettings
  let identity: DatanodeIdentity
  private let volumes: Mutex<[StorageVolume]>
  private let clusterID = Mutex<String?>(nil)
  private let logger: Logger

  init(settings: DatanodeSettings, identity: DatanodeIdentity, volumes: [StorageVolume], logger: Logger) {
    self.settings = settings
    self.identity = identity
    self.volumes = Mutex(volumes)
    self.logger = logger
  }

  var currentVolumes: [StorageVolume] { volumes.withLock { $0 } }
  var cluster: String? { clusterID.withLock { $0 } }

  /// Joins the cluster an SCM named: formats fresh volumes and checks the others. Every SCM of
  /// the service must name the same cluster.
  func joinCluster(_ cluster: String) async throws {
    let known = clusterID.withLock { known -> String? in
      if known == nil { known = cluster }
      return known
    }
    guard known == cluster else {
      throw DatanodeError("SCMs disagree on the cluster: this datanode joined \(known ?? "?"), another SCM says \(cluster)")
    }
    let uuid = identity.uuid
    let current = currentVolumes
    let formatted = await onOwnThread("dn-format") {
      current.map { volume -> StorageVolume in
        var volume = volume
        volume.format(clusterID: cluster, datanodeUUID: uuid)
        return volume
      }
    }
    volumes.withLock { $0 = formatted }
    for volume in formatted where volume.state != .normal {
      logger.error("Marking volume as failed", metadata: ["volume": "\(volume.root)", "reason": "\(volume.problem ?? "")"])
    }
    guard formatted.contains(where: { $0.state == .normal }) else {
      throw DatanodeError("All configured Volumes are in Inconsistent State")
    }
  }

  /// The identity as SCM reads it.
  func details() -> SCMDatanodeDetails {
    var details = SCMDatanodeDetails()
    details.uuid = identity.uuid
    details.hostName = identity.hostName
    details.ipAddress = identity.ipAddress
    details.persistedOpState = .inService
    details.currentVersion = Int32(DatanodeIdentity.layoutVersion)
    details.ports = identity.portDetails.sorted { $0.key < $1.key }.map { name, value in
      var port = SCMDatanodePort()
      port.name = name
      port.value = UInt32(value)
      return port
    }
    return details
  }

  /// Capacity, use and free space per volume.
  func nodeReport() -> SCMNodeReport {
    var report = SCMNodeReport()
    report.storageReport = currentVolumes.map { volume in
      var storage = SCMStorageReport()
      storage.storageUuid = volume.storageID ?? ""
      storage.storageLocation = volume.root
      let space = volume.space
      storage.capacity = space.capacity
      storage.remaining = space.remaining
      storage.failed = volume.state == .failed || volume.state == .inconsistent
      return storage
    }
    return report
  }
}

/// A running datanode: its identity, volumes, one conversation per SCM, and HTTP (status page,
/// `/prom`). Containers, pipelines and the Raft port come with the next parts of this step.
public final class DatanodeServer: Sendable {
  public let settings: DatanodeSettings
  public let identity: DatanodeIdentity
  let context: DatanodeContext
  private let endpoints: [SCMEndpoint]
  private let tasks: [Task<Void, Never>]
  private let httpServer: O3HTTPServer
  private let logger: Logger

  public var httpPort: Int { httpServer.localPort }

  private init(
    settings: DatanodeSettings, identity: DatanodeIdentity, context: DatanodeContext, endpoints: [SCMEndpoint],
    tasks: [Task<Void, Never>], httpServer: O3HTTPServer, logger: Logger
  ) {
    self.settings = settings
    self.identity = identity
    self.context = context
    self.endpoints = endpoints
    self.tasks = tasks
    self.httpServer = httpServer
    self.logger = logger
  }

  /// The state of each SCM conversation, by SCM address.
  public var endpointStates: [(scm: HostAndPort, state: String, heartbeats: Int)] {
    endpoints.map { ($0.address, $0.snapshot.state.rawValue, $0.snapshot.heartbeatsSent) }
  }

  public static func start(
    settings: DatanodeSettings, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
    logger: Logger = Logger(label: "o3.datanode")
  ) async throws -> DatanodeServer {
    let (identity, volumes) = try await onOwnThread("dn-open") { () throws -> (DatanodeIdentity, [StorageVolume]) in
      var identity = try DatanodeIdentity.load(from: settings.identityFile) ?? .new(hostName: settings.hostName, ipAddress: settings.hostName)
      identity.hostName = settings.hostName
      identity.currentVersion = DatanodeIdentity.layoutVersion
      try identity.save(to: settings.identityFile)
      return (identity, settings.volumeDirectories.map(StorageVolume.init(root:)))
    }
    let context = DatanodeContext(settings: settings, identity: identity, volumes: volumes, logger: logger)
    let endpoints = settings.scmAddresses.map { SCMEndpoint(address: $0, datanode: context, group: group, logger: logger) }
    let http = try await startHTTP(settings, context: context, endpoints: endpoints, group: group)
    let tasks = endpoints.map { endpoint in Task { await endpoint.run() } }
    logger.info(
      "datanode started",
      metadata: [
        "uuid": "\(identity.uuid)", "volumes": "\(settings.volumeDirectories.joined(separator: ","))",
        "scm": "\(settings.scmAddresses.map(\.description).joined(separator: ","))",
        "http": "\(settings.httpAddress.host):\(http.localPort)",
      ])
    return DatanodeServer(
      settings: settings, identity: identity, context: context, endpoints: endpoints, tasks: tasks, httpServer: http,
      logger: logger)
  }

  private static func startHTTP(
    _ settings: DatanodeSettings, context: DatanodeContext, endpoints: [SCMEndpoint], group: any EventLoopGroup
  ) async throws -> O3HTTPServer {
    let registry = PrometheusCollectorRegistry()
    let heartbeats = registry.makeGauge(name: "o3_datanode_heartbeats_sent", help: "Heartbeats this datanode sent to SCMs since it started.")
    let normalVolumes = registry.makeGauge(name: "o3_datanode_volumes_normal", help: "Data volumes in use.")
    let failedVolumes = registry.makeGauge(name: "o3_datanode_volumes_failed", help: "Data volumes not in use (failed or inconsistent).")
    var routes = O3HTTPRoutes()
    routes.addStandardPages(
      statusPage: { DatanodeStatusPage.render(context: context, endpoints: endpoints) }, metrics: registry,
      beforeScrape: {
        heartbeats.set(Double(endpoints.reduce(0) { $0 + $1.snapshot.heartbeatsSent }))
        let volumes = context.currentVolumes
        normalVolumes.set(Double(volumes.filter { $0.state == .normal }.count))
        failedVolumes.set(Double(volumes.filter { $0.state == .failed || $0.state == .inconsistent }.count))
      })
    do {
      return try await O3HTTPServer.start(
        host: settings.httpAddress.host, port: settings.httpAddress.port, routes: routes,
        logger: Logger(label: "o3.datanode.http"), group: group)
    } catch {
      throw ConfigurationError(key: "hdds.datanode.http-address", message: "cannot listen for HTTP on \(settings.httpAddress): \(error)")
    }
  }

  public func shutdown() async {
    for task in tasks { task.cancel() }
    for task in tasks { await task.value }
    await httpServer.shutdown()
    logger.info("datanode stopped", metadata: ["uuid": "\(identity.uuid)"])
  }
}

/// The datanode's status page: identity, volumes, SCM conversations.
enum DatanodeStatusPage {
  static func render(context: DatanodeContext, endpoints: [SCMEndpoint]) -> String {
    var html = StatusPageHTML.start(title: "Datanode \(context.identity.hostName)")
    html += StatusPageHTML.table(
      headers: nil,
      rows: [["UUID", context.identity.uuid], ["Host", context.identity.hostName], ["Cluster", context.cluster ?? "(not joined yet)"]])
    html += "<h2>Volumes</h2>\n"
    html += StatusPageHTML.table(
      headers: ["Directory", "State", "Storage id", "Capacity", "Remaining", "Problem"],
      rows: context.currentVolumes.map { volume in
        let space = volume.space
        return [volume.root, volume.state.rawValue, volume.storageID ?? "", "\(space.capacity)", "\(space.remaining)", volume.problem ?? ""]
      })
    html += "<h2>SCMs</h2>\n"
    html += StatusPageHTML.table(
      headers: ["SCM", "State", "Heartbeats sent", "Failed attempts", "Last problem"],
      rows: endpoints.map { endpoint in
        let snapshot = endpoint.snapshot
        return ["\(endpoint.address)", snapshot.state.rawValue, "\(snapshot.heartbeatsSent)", "\(snapshot.missed)", snapshot.lastProblem ?? ""]
      })
    return html + StatusPageHTML.end
  }
}
