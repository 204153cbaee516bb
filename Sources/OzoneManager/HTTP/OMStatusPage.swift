/// The HTML status page at `/`: who this OM is, its Raft role and indexes, and its peers.
///
/// Server-rendered and self-contained (no scripts, no external assets), so it works through any
/// proxy and in a terminal browser; refresh to update.
enum OMStatusPage {
  static func render(_ status: OMNodeStatus?, service: OMServiceConfiguration) -> String {
    let title = "O3 Ozone Manager \(service.localNodeID)"
    var html = """
      <!DOCTYPE html>
      <html><head><meta charset="utf-8"><title>\(escape(title))</title>
      <style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}\
      td,th{border:1px solid #ccc;padding:4px 10px;text-align:left}th{background:#f4f4f4}</style>
      </head><body>
      <h1>\(escape(title))</h1>

      """
    guard let status else {
      return html + "<p>Raft is stopped: this OM is shutting down.</p>\n</body></html>\n"
    }
    html += table(
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
    html += table(
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
    return html + "<p><a href=\"/prom\">Metrics (Prometheus)</a></p>\n</body></html>\n"
  }

  private static func table(headers: [String]?, rows: [[String]]) -> String {
    var html = "<table>\n"
    if let headers {
      html += "<tr>" + headers.map { "<th>\(escape($0))</th>" }.joined() + "</tr>\n"
    }
    for row in rows {
      let cells = row.enumerated().map { index, cell in
        headers == nil && index == 0 ? "<th>\(escape(cell))</th>" : "<td>\(escape(cell))</td>"
      }
      html += "<tr>" + cells.joined() + "</tr>\n"
    }
    return html + "</table>\n"
  }

  static func escape(_ text: String) -> String {
    var escaped = ""
    for character in text {
      switch character {
      case "&": escaped += "&amp;"
      case "<": escaped += "&lt;"
      case ">": escaped += "&gt;"
      case "\"": escaped += "&quot;"
      case "'": escaped += "&#39;"
      default: escaped.append(character)
      }
    }
    return escaped
  }
}
