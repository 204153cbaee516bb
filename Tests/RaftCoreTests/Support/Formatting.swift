import RaftCore

/// Stable, compact text for the scenario outputs: what a reviewer reads in the golden files.
enum Format {
  static func entry(_ entry: LogEntry) -> String {
    switch entry.kind {
    case .normal where entry.data.isEmpty: "\(entry.term)/\(entry.index) no-op"
    case .normal: "\(entry.term)/\(entry.index) \"\(text(entry.data))\""
    case .membershipChange:
      "\(entry.term)/\(entry.index) " + ((try? MembershipChange(decoding: entry.data))?.description ?? "?")
    }
  }

  static func entries(_ entries: [LogEntry]) -> String {
    entries.map(entry).joined(separator: ", ")
  }

  static func text(_ bytes: [UInt8]) -> String {
    String(decoding: bytes, as: UTF8.self)
  }

  static func messageType(_ body: RaftMessage.Body) -> String {
    switch body {
    case .preVote: "preVote"
    case .preVoteResponse: "preVoteResponse"
    case .vote: "vote"
    case .voteResponse: "voteResponse"
    case .append: "append"
    case .appendResponse: "appendResponse"
    case .heartbeat: "heartbeat"
    case .heartbeatResponse: "heartbeatResponse"
    case .snapshotNotice: "snapshotNotice"
    case .snapshotStatus: "snapshotStatus"
    case .timeoutNow: "timeoutNow"
    case .readIndex: "readIndex"
    case .readIndexResponse: "readIndexResponse"
    case .transferLeader: "transferLeader"
    }
  }

  static func message(_ message: RaftMessage) -> String {
    "\(message.from)->\(message.to) t\(message.term) " + body(message.body)
  }

  static func body(_ body: RaftMessage.Body) -> String {
    switch body {
    case .preVote(let last): "preVote last=\(last)"
    case .preVoteResponse(let granted): granted ? "preVoteResponse granted" : "preVoteResponse refused"
    case .vote(let last, let transfer): "vote last=\(last)" + (transfer ? " transfer" : "")
    case .voteResponse(let granted): granted ? "voteResponse granted" : "voteResponse refused"
    case .append(let request):
      "append prev=\(request.previous) commit=\(request.commit) [\(entries(request.entries))]"
    case .appendResponse(let response):
      response.rejected
        ? "appendResponse reject=\(response.index) hint=\(response.hint)"
        : "appendResponse ok=\(response.index)"
    case .heartbeat(let commit, let round): "heartbeat commit=\(commit) round=\(round)"
    case .heartbeatResponse(let round): "heartbeatResponse round=\(round)"
    case .snapshotNotice(let notice):
      "snapshotNotice leader-snapshot=\(notice.leaderSnapshot) history="
        + notice.membershipHistory.map { "\($0.index):\($0.membership)" }.joined(separator: ";")
    case .snapshotStatus(.installed(let position)): "snapshotStatus installed=\(position)"
    case .snapshotStatus(.inProgress): "snapshotStatus in-progress"
    case .snapshotStatus(.failed): "snapshotStatus failed"
    case .timeoutNow: "timeoutNow"
    case .readIndex(let context): "readIndex ctx=\(text(context))"
    case .readIndexResponse(let context, let index): "readIndexResponse ctx=\(text(context)) index=\(index)"
    case .transferLeader(let target): "transferLeader target=\(target)"
    }
  }

  static func ready(_ ready: Ready, of id: PeerID) -> [String] {
    var lines = ["> \(id) ready"]
    if let soft = ready.softState {
      lines.append("  soft: role=\(soft.role.rawValue) leader=\(soft.leader.map(\.description) ?? "none")")
    }
    if let hard = ready.hardState { lines.append("  hard: \(hard)") }
    if let snapshot = ready.snapshot { lines.append("  snapshot: \(snapshot)") }
    if !ready.entries.isEmpty { lines.append("  persist: \(entries(ready.entries))") }
    lines += ready.messages.map { "  send: \(message($0))" }
    if !ready.committedEntries.isEmpty { lines.append("  apply: \(entries(ready.committedEntries))") }
    lines += ready.readStates.map { "  read: ctx=\(text($0.context)) index=\($0.index)" }
    if let notice = ready.snapshotNotice {
      lines.append("  notice: leader=\(notice.leader) leader-snapshot=\(notice.leaderSnapshot)")
    }
    return lines
  }

  static func status(_ status: RaftStatus) -> [String] {
    var lines = [
      "\(status.id): \(status.role.rawValue) term=\(status.hardState.term) "
        + "leader=\(status.leader.map(\.description) ?? "none") commit=\(status.hardState.commit) "
        + "applied=\(status.appliedIndex) log=\(status.firstIndex)...\(status.lastIndex) "
        + "\(status.membership)" + (status.transferTarget.map { " transferring-to=\($0)" } ?? "")
    ]
    for member in status.progress {
      lines.append(
        "  \(member.peer): \(member.state.rawValue) match=\(member.match) next=\(member.next)"
          + (member.inflightMessages > 0 ? " inflight=\(member.inflightMessages)" : "")
          + (member.isLearner ? " learner" : ""))
    }
    return lines
  }
}
