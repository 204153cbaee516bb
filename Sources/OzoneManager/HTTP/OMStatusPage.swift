import O3Service

/// The HTML status page at `/`: who this OM is, its Raft role and indexes, and its peers (the
/// page's frame and tables are `StatusPageHTML`, shared by every O3 server).
enum OMStatusPage {
  static func render(_ status: OMNodeStatus?, service: OMServiceConfiguration) -> String {
    var html = StatusPageHTML.start(title: "O3 Ozone Manager \(service.localNodeID)")
    guard let status else {
      return html + "<p>Raft is stopped: this OM is shutting down.</p>\n" + StatusPageHTML.end
    }
    html += StatusPageHTML.table(
      headers: nil,
      rows: [
        ["Service", status.serviceId ?? "(single OM)"],
        ["Node", status.nodeId],
        ["Role", status.role.rawValue],
        ["Term", "\(status.term)"],
        ["Leader", status.leaderId ?? "unknown"],
        ["Leader ready", status.leaderReady ? "yes" : "no"],
        ["Commit index", "\(status.commitIndex)"],
        ["Applied index", "\(status.appliedIndex)"],
        ["Flushed to RocksDB", "\(status.flushedIndex)"],
        ["Last log index", "\(status.lastIndex)"],
        ["Client RPC", status.clientAddress],
        ["Raft RPC", status.raftAddress],
        ["HTTP", status.httpAddress],
      ] + (status.transferTargetId.map { [["Transferring leadership to", $0]] } ?? [])
        + (status.checkpointInstall.map { [["Checkpoint install", $0.summary]] } ?? []))
    html += "<h2>Peers</h2>\n"
    html += StatusPageHTML.table(
      headers: ["Node", "Client RPC", "Raft RPC", "Match index", "Lag", "Replication", "Active"],
      rows: service.nodes.map { node in
        let progress = status.peer(node.nodeID)
        return [
          node.nodeID + (node.nodeID == status.nodeId ? " (this OM)" : ""), "\(node.clientAddress)",
          "\(node.raftAddress)", progress.map { "\($0.matchIndex)" } ?? "-", progress.map { "\($0.lag)" } ?? "-",
          progress?.state ?? "-", progress.map { $0.recentlyActive ? "yes" : "no" } ?? "-",
        ]
      })
    if status.role != .leader {
      html += "<p>Replication progress is known only on the leader.</p>\n"
    }
    return html + "<p><a href=\"/prom\">Metrics (Prometheus)</a></p>\n" + StatusPageHTML.end
  }
}
