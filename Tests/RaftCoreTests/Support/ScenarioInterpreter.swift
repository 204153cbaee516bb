import RaftCore

/// Runs scenario commands against a ``TestCluster`` and describes what happened.
///
/// Commands: add-nodes, campaign, propose, add-learner, add-voter, promote, remove,
/// process-ready, stabilize, deliver, drop, duplicate, reverse, partition, heal, tick,
/// tick-election, tick-heartbeat, crash, restart, transfer-leader, compact, read-index,
/// install-snapshot, report-unreachable, status, log. See testdata/README.txt for the syntax.
struct ScenarioInterpreter {
  var cluster = TestCluster()
  /// Messages held back by `delay` until `release`.
  var delayed: [RaftMessage] = []

  mutating func run(_ line: String) throws(ScenarioError) -> [String] {
    var arguments = Arguments(line)
    let output: [String]
    switch arguments.command {
    case "add-nodes": output = try addNodes(&arguments)
    case "campaign":
      for id in try peers(&arguments) { cluster.with(id) { $0.campaign() } }
      output = []
    case "propose": output = try propose(&arguments)
    case "add-learner": output = try changeMembership(&arguments, .addLearner)
    case "add-voter": output = try changeMembership(&arguments, .addVoter)
    case "promote": output = try changeMembership(&arguments, .promoteLearner)
    case "remove": output = try changeMembership(&arguments, .removePeer)
    case "process-ready":
      output = try peers(&arguments).flatMap { id in
        cluster.processReady(id).map { Format.ready($0, of: id) } ?? ["> \(id) nothing to do"]
      }
    case "stabilize": output = stabilize()
    case "run": output = try runTicks(&arguments)
    case "deliver", "drop", "duplicate", "reverse", "delay": output = try manipulate(&arguments)
    case "release":
      let count = min(try arguments.integerOption("count") ?? delayed.count, delayed.count)
      let released = delayed.prefix(count)
      delayed.removeFirst(count)
      cluster.inFlight += released
      output = released.map { "released: \(Format.message($0))" }
    case "partition": output = try partition(&arguments)
    case "heal":
      cluster.partitionGroups = []
      output = []
    case "tick", "tick-election", "tick-heartbeat": output = try tick(&arguments)
    case "crash":
      for id in try peers(&arguments) { cluster.crash(id) }
      output = []
    case "restart":
      for id in try peers(&arguments) { cluster.restart(id) }
      output = []
    case "transfer-leader": output = try transferLeader(&arguments)
    case "compact": output = try compact(&arguments)
    case "read-index": output = try readIndex(&arguments)
    case "install-snapshot": output = try installSnapshot(&arguments)
    case "report-unreachable":
      let leader = try arguments.peer(0)
      let peer = try arguments.peer(1)
      cluster.with(leader) { $0.reportUnreachable(peer) }
      output = []
    case "status":
      output = try peers(&arguments, defaultAll: true).flatMap { id in
        cluster.peer(id).node.map { Format.status($0.status) } ?? ["\(id): crashed"]
      }
    case "log": output = try peers(&arguments, defaultAll: true).flatMap { log(of: $0) }
    default: throw ScenarioError("unknown command '\(arguments.command)'")
    }
    try arguments.checkAllUsed()
    return output.isEmpty ? ["ok"] : output
  }

  private mutating func addNodes(_ arguments: inout Arguments) throws(ScenarioError) -> [String] {
    let count = try arguments.integer(0)
    let first = (cluster.ids.last?.rawValue ?? 0) + 1
    let created = (0..<UInt64(count)).map { PeerID(first + $0) }
    let join = arguments.flag("join")
    let voters = try arguments.peerList("voters") ?? (join ? [] : created)
    let learners = try arguments.peerList("learners") ?? []
    let membership = Membership(voters: voters, learners: learners)
    let preVote = try arguments.bool("prevote") ?? true
    let checkQuorum = try arguments.bool("checkquorum") ?? true
    let lease = arguments.option("read") == "lease"
    let inflight = try arguments.integerOption("inflight")
    let inflightBytes = try arguments.integerOption("inflight-bytes")
    let messageBytes = try arguments.integerOption("message-bytes")
    let uncommittedBytes = try arguments.integerOption("uncommitted-bytes")
    let election = try arguments.integerOption("election")
    for id in created {
      cluster.addPeer(id, membership: membership) { configuration in
        configuration.preVote = preVote
        configuration.checkQuorum = checkQuorum
        if lease { configuration.readMode = .leaseBased }
        if let inflight { configuration.inflightMessagesMax = inflight }
        if let messageBytes { configuration.messageBytesMax = messageBytes }
        if let inflightBytes { configuration.inflightBytesMax = inflightBytes }
        if let uncommittedBytes { configuration.uncommittedBytesMax = uncommittedBytes }
        if let election { configuration.electionTimeoutTicks = election }
      }
    }
    return created.flatMap { Format.status(cluster.node($0).status) }
  }

  private mutating func propose(_ arguments: inout Arguments) throws(ScenarioError) -> [String] {
    let id = try arguments.peer(0)
    let data = Array(try arguments.string(1).utf8)
    do throws(RaftError) {
      let position = try cluster.with(id) { node throws(RaftError) in try node.propose(data) }
      return ["proposed at \(position)"]
    } catch {
      return ["refused: \(error)"]
    }
  }

  private mutating func changeMembership(
    _ arguments: inout Arguments, _ kind: MembershipChange.Kind
  ) throws(ScenarioError) -> [String] {
    let leader = try arguments.peer(0)
    let change = MembershipChange(kind, peer: try arguments.peer(1))
    do throws(RaftError) {
      let position = try cluster.with(leader) { node throws(RaftError) in
        try node.proposeMembershipChange(change)
      }
      return ["proposed \(change) at \(position)"]
    } catch {
      return ["refused: \(error)"]
    }
  }

  private mutating func stabilize() -> [String] {
    var lines: [String] = []
    for _ in 0..<1000 {
      var moved = false
      for id in cluster.ids {
        guard let ready = cluster.processReady(id) else { continue }
        lines += Format.ready(ready, of: id)
        moved = true
      }
      if !cluster.inFlight.isEmpty {
        let dropped = cluster.deliverAll().dropped
        lines += dropped.map { "  dropped: \(Format.message($0))" }
        moved = true
      }
      if !moved { return lines }
    }
    return lines + ["did not stabilize within 1000 rounds"]
  }

  private mutating func manipulate(_ arguments: inout Arguments) throws(ScenarioError) -> [String] {
    let from = try arguments.peerOption("from")
    let to = try arguments.peerOption("to")
    let type = arguments.option("type")
    let previousIndex = try arguments.integerOption("prev").map(UInt64.init)
    var remaining = try arguments.integerOption("count") ?? Int.max
    var positions: [Int] = []
    for (position, message) in cluster.inFlight.enumerated() where remaining > 0 {
      guard (from == nil || message.from == from) && (to == nil || message.to == to)
        && (type == nil || Format.messageType(message.body) == type)
        && (previousIndex == nil || Self.previousIndex(of: message) == previousIndex)
      else { continue }
      positions.append(position)
      remaining -= 1
    }
    switch arguments.command {
    case "deliver":
      let (delivered, dropped) = cluster.deliver(cluster.take(positions: Set(positions)))
      return delivered.map { "delivered: \(Format.message($0))" }
        + dropped.map { "dropped: \(Format.message($0))" }
    case "drop":
      return cluster.take(positions: Set(positions)).map { "dropped: \(Format.message($0))" }
    case "delay":
      let held = cluster.take(positions: Set(positions))
      delayed += held
      return held.map { "delayed: \(Format.message($0))" }
    case "duplicate":
      let copies = positions.map { cluster.inFlight[$0] }
      cluster.inFlight += copies
      return copies.map { "duplicated: \(Format.message($0))" }
    default:
      let reversed = positions.map { cluster.inFlight[$0] }.reversed()
      for (position, message) in zip(positions, reversed) { cluster.inFlight[position] = message }
      return cluster.inFlight.map { "queued: \(Format.message($0))" }
    }
  }

  /// Lets time pass: each round ticks every running peer once, then stabilizes. Prints only
  /// role, leader and term changes, which is what a long run is watched for.
  private mutating func runTicks(_ arguments: inout Arguments) throws(ScenarioError) -> [String] {
    guard let rounds = try arguments.integerOption("ticks") else { throw ScenarioError("run needs ticks=") }
    var lines: [String] = []
    var terms = Dictionary(uniqueKeysWithValues: cluster.ids.map { ($0, cluster.peer($0).storage.hardState.term) })
    for round in 1...rounds {
      cluster.tick()
      for _ in 0..<1000 {
        var moved = false
        for id in cluster.ids {
          guard let ready = cluster.processReady(id) else { continue }
          moved = true
          if let soft = ready.softState {
            lines.append(
              "tick \(round): \(id) role=\(soft.role.rawValue) leader=\(soft.leader.map(\.description) ?? "none")")
          }
          if let hard = ready.hardState, hard.term != terms[id] {
            terms[id] = hard.term
            lines.append("tick \(round): \(id) term=\(hard.term)")
          }
          lines += ready.messages.filter(Self.isNoteworthy).map { "tick \(round): send \(Format.message($0))" }
          lines += ready.readStates.map { "tick \(round): \(id) read ctx=\(Format.text($0.context)) index=\($0.index)" }
          if let notice = ready.snapshotNotice {
            lines.append("tick \(round): \(id) notice leader=\(notice.leader) leader-snapshot=\(notice.leaderSnapshot)")
          }
        }
        if !cluster.inFlight.isEmpty {
          cluster.deliverAll()
          moved = true
        }
        if !moved { break }
      }
    }
    return lines
  }

  /// The rare messages a long run shows; heartbeats and appends would drown them.
  private static func isNoteworthy(_ message: RaftMessage) -> Bool {
    switch message.body {
    case .snapshotNotice, .snapshotStatus, .timeoutNow, .transferLeader, .readIndex, .readIndexResponse:
      true
    default:
      false
    }
  }

  private static func previousIndex(of message: RaftMessage) -> UInt64? {
    guard case .append(let request) = message.body else { return nil }
    return request.previous.index
  }

  private mutating func partition(_ arguments: inout Arguments) throws(ScenarioError) -> [String] {
    var groups: [[PeerID]] = [[]]
    for token in arguments.positional {
      if token == "/" {
        groups.append([])
      } else if let raw = UInt64(token), raw > 0 {
        groups[groups.count - 1].append(PeerID(raw))
      } else {
        throw ScenarioError("partition: '\(token)' is not a peer")
      }
    }
    arguments.positional = []
    cluster.partitionGroups = groups
    return []
  }

  private mutating func tick(_ arguments: inout Arguments) throws(ScenarioError) -> [String] {
    let ids = try arguments.allPeers()
    for id in ids.isEmpty ? cluster.ids : ids {
      let configuration = cluster.peer(id).configuration
      let count: Int
      switch arguments.command {
      case "tick-election": count = 2 * configuration.electionTimeoutTicks - 1
      case "tick-heartbeat": count = configuration.heartbeatIntervalTicks
      default: count = try arguments.integerOption("count") ?? 1
      }
      cluster.tick([id], count: count)
    }
    return []
  }

  private mutating func transferLeader(_ arguments: inout Arguments) throws(ScenarioError) -> [String] {
    let id = try arguments.peer(0)
    guard let target = try arguments.peerOption("to") else { throw ScenarioError("transfer-leader needs to=") }
    do throws(RaftError) {
      try cluster.with(id) { node throws(RaftError) in try node.transferLeader(to: target) }
      return []
    } catch {
      return ["refused: \(error)"]
    }
  }

  private mutating func compact(_ arguments: inout Arguments) throws(ScenarioError) -> [String] {
    let id = try arguments.peer(0)
    let index = UInt64(try arguments.integer(1))
    guard index <= cluster.peer(id).appliedIndex else {
      throw ScenarioError("compact: \(index) is past what peer \(id) applied")
    }
    cluster.peer(id).storage.compact(through: index)
    return ["\(id) log now starts at \(cluster.peer(id).storage.firstIndex)"]
  }

  private mutating func readIndex(_ arguments: inout Arguments) throws(ScenarioError) -> [String] {
    let id = try arguments.peer(0)
    let context = Array(try arguments.string(1).utf8)
    do throws(RaftError) {
      try cluster.with(id) { node throws(RaftError) in try node.readIndex(context: context) }
      return []
    } catch {
      return ["refused: \(error)"]
    }
  }

  private mutating func installSnapshot(_ arguments: inout Arguments) throws(ScenarioError) -> [String] {
    let id = try arguments.peer(0)
    guard let source = try arguments.peerOption("from") else { throw ScenarioError("install-snapshot needs from=") }
    guard cluster.peer(id).pendingNotice != nil else { throw ScenarioError("peer \(id) was sent no notice") }
    let position = cluster.installSnapshot(on: id, from: source)
    return ["\(id) installed the checkpoint of \(source) at \(position)"]
  }

  private func log(of id: PeerID) -> [String] {
    let peer = cluster.peer(id)
    let storage = peer.storage
    let data = peer.applied.filter { $0.index > peer.checkpoint.index && $0.kind == .normal }
      .filter { !$0.data.isEmpty }.map { Format.text($0.data) }
    return [
      "\(id): durable log \(storage.firstIndex)...\(storage.lastIndex), compacted through \(storage.snapshot)",
      "  entries: \(storage.entries.isEmpty ? "none" : Format.entries(storage.entries))",
      "  applied: " + (peer.checkpoint == .zero ? "" : "checkpoint \(peer.checkpoint) then ")
        + (data.isEmpty ? "no data" : data.joined(separator: " ")),
    ]
  }

  private func peers(_ arguments: inout Arguments, defaultAll: Bool = false) throws(ScenarioError)
    -> [PeerID]
  {
    let ids = try arguments.allPeers()
    if ids.isEmpty && defaultAll { return cluster.ids }
    guard !ids.isEmpty else { throw ScenarioError("\(arguments.command) needs peer ids") }
    return ids
  }
}
