import O3Service
import Raft

/// The SCM's status page: who it is, its Raft role, and safe mode with each rule.
enum SCMStatusPage {
  static func render(leadership: SCMLeadership, safeMode: SCMSafeMode, nodes: SCMNodeManager, identity: SCMIdentity) async -> String {
    let service = leadership.service
    var html = StatusPageHTML.start(title: "Storage Container Manager \(service.localNodeID)")
    var rows = [["Cluster", identity.clusterID], ["SCM id", identity.scmID], ["Service", service.serviceID ?? "(single SCM)"]]
    if let status = await leadership.raft.status() {
      let leader = status.core.leader.flatMap(service.node(withPeerID:))?.nodeID ?? "unknown"
      rows += [
        ["Role", "\(status.core.role)".uppercased()], ["Term", "\(status.core.hardState.term)"], ["Leader", leader],
        ["Applied", "\(status.applied)"],
      ]
    } else {
      rows.append(["Role", "stopped"])
    }
    html += StatusPageHTML.table(headers: nil, rows: rows)
    html += "<h2>Safe mode: \(safeMode.inSafeMode ? "in safe mode" : "out of safe mode")</h2>\n"
    html += StatusPageHTML.table(
      headers: ["Rule", "Validated", "Status"],
      rows: safeMode.rules.map { [$0.name, $0.validated ? "yes" : "no", $0.text] })
    let known = nodes.allNodes()
    html += "<h2>Datanodes (\(known.count))</h2>\n"
    html += StatusPageHTML.table(
      headers: ["Datanode", "Host", "Address", "Health", "Last heartbeat", "Volumes", "Capacity", "Remaining"],
      rows: known.map { entry in
        let reports = entry.node.report.storageReport
        return [
          entry.node.details.uuid, entry.node.details.hostName, entry.node.details.ipAddress, "\(entry.node.state)".uppercased(),
          "\(entry.millisecondsSinceHeartbeat) ms ago", "\(reports.count)",
          "\(reports.reduce(0) { $0 + $1.capacity })", "\(reports.reduce(0) { $0 + $1.remaining })",
        ]
      })
    return html + StatusPageHTML.end
  }
}
