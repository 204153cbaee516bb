import O3Service
import Raft

/// The SCM's status page: who it is, its Raft role, and safe mode with each rule.
enum SCMStatusPage {
  static func render(leadership: SCMLeadership, safeMode: SCMSafeMode, identity: SCMIdentity) async -> String {
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
    return html + StatusPageHTML.end
  }
}
