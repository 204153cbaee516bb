import Foundation
import Testing
import Logging
import NIOCore
import NIOPosix
import O3Common
import O3RPC
import O3TestSupport
import OMMetadata
import OMProto
import OzoneManager
import SwiftProtobuf
import Synchronization

/// Three real OMs in one process, service `omservice`, with every Raft link running through a
/// `TCPProxy` so that a test can partition a node away.
final class OMCluster: @unchecked Sendable {
  // @unchecked: `servers` changes only in `start`/`stop`, which tests call from one task while
  // nothing else uses the cluster.
  static let nodeIDs = ["om1", "om2", "om3"]
  let directory = TemporaryDirectory("om-cluster")
  private(set) var servers: [String: OzoneManagerServer] = [:]
  private var clientPorts: [String: Int] = [:]
  private var raftPorts: [String: Int] = [:]
  private var httpPorts: [String: Int] = [:]
  /// Keys every node's configuration gets on top of the cluster's own (e.g. a small segment size).
  private var extraConfiguration: [String: String] = [:]
  /// proxies[from][to]: the link `from` uses to reach `to`'s Raft port.
  private var proxies: [String: [String: TCPProxy]] = [:]
  private var proxyPorts: [String: Int] = [:]
  /// httpProxies[from][to]: the link `from` uses to reach `to`'s HTTP port (checkpoint
  /// downloads), when the cluster was started with `httpProxies`.
  private var httpProxies: [String: [String: TCPProxy]] = [:]
  let fatalErrors = FatalErrorRecorder()
  /// Applied to a node's checkpoint downloads when it next starts (fault tests).
  var checkpointDownloadAdjustments: [String: @Sendable (inout CheckpointDownloader.Configuration) -> Void] = [:]
  /// Records a node's log lines at info and above from its next start.
  var logRecorders: [String: LogRecorder] = [:]

  /// - Parameters:
  ///   - configuration: extra keys for every node, e.g. `ozone.om.ratis.segment.size` and
  ///     `ozone.om.ratis.log.purge.gap` small enough that the leader purges its log.
  ///   - fixedHTTPPorts: give each node a known HTTP port (a follower fetches checkpoints from
  ///     the leader's configured HTTP address); otherwise each binds port 0, and fewer ports are
  ///     reserved ahead (each reservation is a small race with other tests).
  ///   - httpProxies: route each node's HTTP requests to its peers (checkpoint downloads)
  ///     through a `TCPProxy` too, so that a test can cut a transfer; implies fixed HTTP ports.
  static func start(
    configuration: [String: String] = [:], fixedHTTPPorts: Bool = false, httpProxies: Bool = false
  ) async throws -> OMCluster {
    let cluster = OMCluster()
    cluster.extraConfiguration = configuration
    for node in nodeIDs {
      cluster.clientPorts[node] = try freePort()
      cluster.raftPorts[node] = try freePort()
      if fixedHTTPPorts || httpProxies { cluster.httpPorts[node] = try freePort() }
    }
    for from in nodeIDs {
      for to in nodeIDs where to != from {
        let proxy = TCPProxy(targetPort: cluster.raftPorts[to]!)
        cluster.proxyPorts["\(from)->\(to)"] = try await proxy.start()
        cluster.proxies[from, default: [:]][to] = proxy
        if httpProxies {
          let httpProxy = TCPProxy(targetPort: cluster.httpPorts[to]!)
          cluster.proxyPorts["\(from)->\(to) http"] = try await httpProxy.start()
          cluster.httpProxies[from, default: [:]][to] = httpProxy
        }
      }
    }
    for node in nodeIDs { try await cluster.start(node, initialize: true) }
    return cluster
  }

  /// Node `node`'s configuration: its own ports, and its peers reached through its proxies.
  private func configuration(_ node: String) -> OzoneConfiguration {
    var values = [
      "ozone.om.service.ids": "omservice", "ozone.om.nodes.omservice": Self.nodeIDs.joined(separator: ","),
      "ozone.om.node.id": node, OzoneConfigKeys.metadataDirs: "\(directory.path)/\(node)",
      // 2 s, not Ozone's 5 s, so that tests which kill or isolate a leader stay short; not less:
      // the whole suite shares two cores, and a follower that misses heartbeats for a moment
      // under that load must not depose a leader the test is still writing to.
      "ozone.om.ratis.minimum.timeout": "2s",
    ]
    for peer in Self.nodeIDs {
      values["ozone.om.address.omservice.\(peer)"] = "127.0.0.1:\(clientPorts[peer]!)"
      let httpPort = peer == node ? httpPorts[peer] : proxyPorts["\(node)->\(peer) http"] ?? httpPorts[peer]
      values["ozone.om.http-address.omservice.\(peer)"] = "127.0.0.1:\(httpPort ?? 0)"
      let raftPort = peer == node ? raftPorts[peer]! : proxyPorts["\(node)->\(peer)"]!
      values["ozone.om.ratis.port.omservice.\(peer)"] = "\(raftPort)"
    }
    values.merge(extraConfiguration) { _, extra in extra }
    return OzoneConfiguration(values)
  }

  /// Starts (or restarts) a node on its directories.
  func start(_ node: String, initialize: Bool = false) async throws {
    var settings = try OzoneManagerServer.Settings(configuration: configuration(node))
    if initialize { try await settings.storage.initialize() }
    if let adjustment = checkpointDownloadAdjustments[node] { settings.adjustCheckpointDownload = adjustment }
    let printing = ProcessInfo.processInfo.environment["O3_TEST_LOG"] != nil
    var logger = logRecorders[node]?.logger(label: "om-\(node)", printing: printing) ?? Logger(label: "om-\(node)")
    if logRecorders[node] == nil { logger.logLevel = printing ? .debug : .warning }
    servers[node] = try await OzoneManagerServer.start(
      settings: settings, group: MultiThreadedEventLoopGroup.singleton, logger: logger,
      onFatalError: fatalErrors.handler)
  }

  func stop(_ node: String) async {
    await servers[node]?.shutdown()
    servers[node] = nil
  }

  func shutdown() async {
    for node in Array(servers.keys) { await stop(node) }
    for links in proxies.values { for proxy in links.values { await proxy.stop() } }
    for links in httpProxies.values { for proxy in links.values { await proxy.stop() } }
  }

  /// The proxy `from` reaches `to`'s HTTP server through (clusters started with `httpProxies`).
  func httpProxy(from: String, to: String) -> TCPProxy { httpProxies[from]![to]! }

  /// Cuts every Raft link to and from `node` (clients still reach it).
  func isolate(_ node: String) {
    for (from, links) in proxies { for (to, proxy) in links where from == node || to == node { proxy.block() } }
  }

  func heal() {
    for links in proxies.values { for proxy in links.values { proxy.unblock() } }
  }

  /// The node that leads and is ready, among `candidates`: of the ready leaders, the one with
  /// the highest term (an old leader may not yet know it was replaced); polls with a generous
  /// deadline.
  func leader(among candidates: [String] = OMCluster.nodeIDs) async throws -> String {
    let deadline = Date().addingTimeInterval(60)
    while Date() < deadline {
      var ready: [(node: String, term: UInt64)] = []
      for node in candidates {
        guard let server = servers[node], server.raft.isLeaderReady, let status = await server.raft.status() else { continue }
        if status.core.role == .leader { ready.append((node, status.core.hardState.term)) }
      }
      if let newest = ready.max(by: { $0.term < $1.term }) { return newest.node }
      try await Task.sleep(for: .milliseconds(20))
    }
    throw OMProcessTimeout(what: "a ready leader among \(candidates)")
  }

  /// Sends one request, exactly as given (client id and call id included), to `node`.
  func submit(_ request: OMRequest, to node: String) async throws -> OMResponse {
    let client = try await RPCClient.connect(host: "127.0.0.1", port: clientPorts[node]!, group: MultiThreadedEventLoopGroup.singleton)
    defer { Task { await client.close() } }
    let reply = try await client.call(method: "om.submitRequest", payload: try request.serializedBytes(), deadline: .seconds(30))
    return try OMResponse(serializedBytes: reply)
  }

  /// Submits `request` to `node` and records an issue naming the status and message unless the
  /// answer is OK.
  func expectOK(_ request: OMRequest, to node: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
    let reply = try await submit(request, to: node)
    #expect(reply.status == .ok, "\(request.cmdType) on \(node): \(reply.status) \(reply.message)", sourceLocation: sourceLocation)
  }

  /// Sends `request` (as given: a write should carry its client and call id, so that a retry is
  /// answered from the retry cache) to whichever OM leads, and again to the new leader while the
  /// answer is NOT_LEADER or LEADER_NOT_READY: leadership may move at any time on a loaded
  /// machine. Returns the first other answer.
  func submitToLeader(_ request: OMRequest) async throws -> OMResponse {
    let deadline = Date().addingTimeInterval(60)
    while true {
      let reply = try await submit(request, to: try await leader())
      guard reply.status == .notLeader || reply.status == .leaderNotReady, Date() < deadline else { return reply }
      try await Task.sleep(for: .milliseconds(20))
    }
  }

  /// `submitToLeader`, recording an issue naming the status and message unless the answer is OK.
  func expectOKOnLeader(_ request: OMRequest, sourceLocation: SourceLocation = #_sourceLocation) async throws {
    let reply = try await submitToLeader(request)
    #expect(reply.status == .ok, "\(request.cmdType): \(reply.status) \(reply.message)", sourceLocation: sourceLocation)
  }

  func clientAddress(_ node: String) -> String { "127.0.0.1:\(clientPorts[node]!)" }

  /// Every row of every table except transactionInfo (replicas flush at different moments).
  func digest(_ node: String) throws -> [TableRow] {
    try servers[node]!.store.dumpAllTables().filter { $0.table != "transactionInfoTable" }.map {
      TableRow(table: $0.table, key: $0.key, value: $0.value)
    }
  }

  /// Polls until `condition` holds (generous deadline; never an assertion on timing).
  func waitUntil(_ what: String, _ condition: () async throws -> Bool) async throws {
    let deadline = Date().addingTimeInterval(60)
    while !(try await condition()) {
      guard Date() < deadline else { throw OMProcessTimeout(what: what) }
      try await Task.sleep(for: .milliseconds(20))
    }
  }

  /// A port nothing listens on right now, handed out once per test process (see `FreePorts`).
  private static func freePort() throws -> Int { try FreePorts.allocate(1)[0] }
}

struct OMProcessTimeout: Error, CustomStringConvertible {
  var what: String
  var description: String { "timed out waiting for \(what)" }
}
