import RaftCore

/// Checks that need the whole cluster's disks, not just the oracle's records.
extension Simulation {
  /// Every newly committed index must be on the synced storage of a majority of the voters that
  /// could have committed it.
  ///
  /// A membership takes effect when appended, so the leader counted the membership of the
  /// newest change in its log at that moment: the one in force at the index, or the single
  /// uncommitted change after it. Both are read from the reporter's log.
  func checkDurableMajority(_ indexes: ClosedRange<UInt64>, reportedBy reporter: Int)
    throws(SimulationViolation)
  {
    let history = membershipHistory(in: nodes[reporter].disk.live)
    for index in indexes {
      let inForce = history.last { $0.index <= index } ?? history[0]
      let next = history.first { $0.index > index }
      let memberships = [inForce.membership] + (next.map { [$0.membership] } ?? [])
      let term = oracle.committedTerms[Int(index)]
      let holders = nodes.filter { node in
        let durable = node.disk.durable
        return index <= durable.snapshot.last.index || (try? durable.term(at: index)) == term
      }.map(\.id)
      let durableMajority = memberships.contains { membership in
        holders.filter(membership.isVoter).count >= membership.voters.count / 2 + 1
      }
      guard durableMajority else {
        throw SimulationViolation(
          .commitWithoutDurableMajority,
          "peer \(nodes[reporter].id) reports \(term)/\(index) committed but only peers "
            + "\(holders) have it synced; memberships \(memberships)")
      }
    }
  }

  /// The membership at the compaction point, then after each membership entry of the log.
  private func membershipHistory(in storage: MemoryRaftStorage) -> [MembershipRecord] {
    var history = [
      MembershipRecord(index: storage.snapshot.last.index, membership: storage.snapshot.membership)
    ]
    for entry in storage.entries where entry.kind == .membershipChange {
      guard let change = try? MembershipChange(decoding: entry.data),
        let next = try? history[history.count - 1].membership.applying(change)
      else { preconditionFailure("the core appended a membership entry that does not apply") }
      history.append(MembershipRecord(index: entry.index, membership: next))
    }
    return history
  }

  /// A leader holds at most one membership change past its commit index.
  func checkSingleMembershipChange(leader node: Int) throws(SimulationViolation) {
    let live = nodes[node].disk.live
    let commit = live.hardState.commit
    let pending = live.entries.reversed().prefix { $0.index > commit }.filter {
      $0.kind == .membershipChange
    }
    guard pending.count <= 1 else {
      throw SimulationViolation(
        .concurrentMembershipChanges,
        "leader \(nodes[node].id) holds uncommitted changes at \(pending.map(\.index)) "
          + "(commit \(commit))")
    }
  }

  /// A message may leave only once what it promises is synced: its term, a granted vote, and
  /// the entries an acknowledgement claims.
  func checkSentAfterSync(_ message: RaftMessage, from node: Int) throws(SimulationViolation) {
    let durable = nodes[node].disk.durable
    let id = nodes[node].id
    switch message.body {
    case .preVote, .preVoteResponse:
      // Pre-votes carry the term the candidate would campaign in; nothing is promised.
      return
    case .voteResponse(granted: true):
      // A later durable term also keeps the promise: no second vote in this term can follow.
      let promiseKept =
        durable.hardState.term > message.term
        || (durable.hardState.term == message.term && durable.hardState.vote == message.to)
      guard promiseKept else {
        throw SimulationViolation(
          .messageBeforeSync,
          "peer \(id) granted its term \(message.term) vote to \(message.to) with durable "
            + "\(durable.hardState)")
      }
    case .appendResponse(let response) where !response.rejected && response.index > 0:
      let durableTerm = try? durable.term(at: response.index)
      let held = response.index <= durable.snapshot.last.index || durableTerm != nil
      guard held else {
        throw SimulationViolation(
          .messageBeforeSync,
          "peer \(id) acknowledged index \(response.index) holding durably only through "
            + "\(durable.lastIndex)")
      }
      // The leader of the message's term holds no entry of a newer term: an uncommitted one
      // there means the acknowledged entry was overwritten before it reached the disk.
      let settled = max(durable.snapshot.last.index, durable.hardState.commit)
      if response.index > settled, let durableTerm, durableTerm > message.term {
        throw SimulationViolation(
          .messageBeforeSync,
          "peer \(id) acknowledged index \(response.index) in term \(message.term) holding "
            + "durably an entry of term \(durableTerm) there")
      }
    default:
      break
    }
    guard message.term <= durable.hardState.term else {
      throw SimulationViolation(
        .messageBeforeSync,
        "peer \(id) sent \(message) in term \(message.term) with durable term "
          + "\(durable.hardState.term)")
    }
  }

  /// The durable term never goes down and a durable vote never changes within its term.
  func checkDurableHardState(_ node: Int) throws(SimulationViolation) {
    let durable = nodes[node].disk.durable.hardState
    let previous = nodes[node].durableHardState
    let keeps =
      durable.term > previous.term
      || (durable.term == previous.term && (previous.vote == nil || previous.vote == durable.vote))
    guard keeps else {
      throw SimulationViolation(
        .hardStateRegressed,
        "peer \(nodes[node].id) durable state went from \(previous) to \(durable)")
    }
    nodes[node].durableHardState = durable
  }
}
