/// One Raft peer as a pure state machine: inputs in, a ``Ready`` out; no I/O, clock or threads.
///
/// The driver feeds it ticks, messages from peers and client requests, then repeatedly takes a
/// ``Ready`` with ``ready()``, carries it out (persist, send, apply — in that order, see
/// ``Ready``) and acknowledges it with ``advance()``. Inputs may arrive between `ready()` and
/// `advance()`; a second `ready()` may not. See `RaftCoreDocumentation` for the guarantees.
public struct RaftNode<Storage: RaftStorage> {
  /// The knobs this peer was created with.
  public let configuration: RaftConfiguration
  /// This peer's current term.
  public internal(set) var term: UInt64 = 0
  /// The candidate this peer voted for in `term`.
  public internal(set) var vote: PeerID?
  public internal(set) var role: RaftRole = .follower
  /// The leader of `term`, when known.
  public internal(set) var leader: PeerID?

  var random: any RaftRandom
  var log: RaftLog<Storage>
  var membershipLog: MembershipLog
  /// The leader's view of every member; empty unless leader. Never iterated where order could
  /// show (messages go out in `membership.members` order).
  var progress: [PeerID: Progress] = [:]
  /// Votes received in the current (pre-)election.
  var votes: [PeerID: Bool] = [:]
  var electionElapsedTicks = 0
  var heartbeatElapsedTicks = 0
  var randomizedElectionTimeoutTicks = 0
  var transferTarget: PeerID?
  var transferElapsedTicks = 0
  var uncommitted = UncommittedPayloads()
  var reads = ReadQueue()
  /// The checkpoint install this peer was asked for and has not finished.
  var pendingNotice: (leader: PeerID, request: SnapshotNoticeRequest)?
  var noticeToReport: SnapshotNotice?
  var readStates: [ReadState] = []
  var outbox: [RaftMessage] = []
  /// New entries and a new commit index wait for the next `ready()` to go out, so that every
  /// proposal and commit advance between two Readies travels in one AppendEntries per follower.
  var broadcastPending = false
  var reportedSoftState = SoftState(leader: nil, role: .follower)
  var reportedHardState: HardState
  var outstandingReady: OutstandingReady?

  /// A peer whose durable state is in `storage` (a new peer's storage holds its initial
  /// membership; a joining peer's holds an empty one). `random` supplies the election jitter.
  public init(configuration: RaftConfiguration, storage: Storage, random: any RaftRandom)
    throws(RaftError)
  {
    try configuration.validate()
    self.configuration = configuration
    self.random = random
    log = RaftLog(storage: storage, appliedIndex: configuration.appliedIndex)
    membershipLog = MembershipLog(base: storage.snapshot)
    reportedHardState = storage.hardState
    term = storage.hardState.term
    vote = storage.hardState.vote
    replayMembershipEntries()
    becomeFollower(term: term, leader: nil)
  }

  /// This peer's identity.
  public var id: PeerID { configuration.id }

  /// The membership in force: the newest membership entry in the log, committed or not.
  public var membership: Membership { membershipLog.current.membership }

  /// Advances logical time by one tick: elections, heartbeats, check-quorum and timeouts.
  public mutating func tick() {
    switch role {
    case .leader: tickLeader()
    case .follower, .preCandidate, .candidate: tickElection()
    }
  }

  /// Handles a message from a peer.
  public mutating func step(_ message: RaftMessage) {
    precondition(message.to == id, "message for \(message.to) delivered to \(id)")
    receive(message)
  }

  /// Starts an election now (with a pre-vote round if configured), as if the election timeout
  /// had passed. Does nothing on a leader or on a peer that may not campaign (neither a voter
  /// nor a voter whose removal is still uncommitted; see the module notes).
  public mutating func campaign() {
    guard role != .leader else { return }
    startElection(leadershipTransfer: false)
  }

  /// Appends `data` to the leader's log; returns the position it was given. The entry is
  /// committed when it comes out in `Ready.committedEntries` at that position; if a different
  /// term shows up at that index, the proposal was lost.
  public mutating func propose(_ data: [UInt8]) throws(RaftError) -> TermIndex {
    try checkAcceptsProposals()
    guard uncommitted.admits(data.count, limit: configuration.uncommittedBytesMax) else {
      throw RaftError(
        .uncommittedBytesExceeded,
        "\(uncommitted.bytes) uncommitted bytes; limit \(configuration.uncommittedBytesMax)")
    }
    return appendAsLeader(kind: .normal, data: data)
  }

  /// Appends a single-server membership change; it takes effect on every peer as soon as the
  /// peer appends it (see the module notes). Refused while another change is uncommitted and
  /// before the leader has committed an entry of its own term.
  public mutating func proposeMembershipChange(_ change: MembershipChange) throws(RaftError)
    -> TermIndex
  {
    try checkAcceptsProposals()
    try checkAcceptsMembershipChange()
    _ = try membership.applying(change)
    return appendAsLeader(kind: .membershipChange, data: change.encoded())
  }

  /// Asks for a linearizable read: a ``ReadState`` with this `context` comes out in a later
  /// Ready once leadership is confirmed. A follower forwards the request to the leader. The
  /// request may be dropped (leader change, message loss): the caller retries on a timeout.
  public mutating func readIndex(context: [UInt8]) throws(RaftError) {
    if role == .leader {
      try leaderReadIndex(context: context, from: id)
      return
    }
    guard let leader else { throw RaftError(.notLeader, "no leader is known to forward to") }
    send(to: leader, .readIndex(context: context))
  }

  /// Hands leadership to `target`, a voter: the leader brings it up to date, then tells it to
  /// campaign at once. Proposals are refused meanwhile; the attempt is abandoned after an
  /// election timeout. A follower forwards the request to the leader.
  public mutating func transferLeader(to target: PeerID) throws(RaftError) {
    guard membership.isVoter(target) else {
      throw RaftError(.invalidTransferTarget, "peer \(target) is not a voter")
    }
    if role == .leader {
      startTransfer(to: target)
      return
    }
    guard let leader else { throw RaftError(.notLeader, "no leader is known to forward to") }
    send(to: leader, .transferLeader(target: target))
  }

  /// Tells the peer its state machine has installed a checkpoint at `installed` after a
  /// ``SnapshotNotice``, with `membership` the membership in force at that index as the
  /// checkpoint records it: the log now starts after it. Call between `advance()` and
  /// `ready()`. Returns false, and tells the leader the install failed, when no notice is
  /// pending (after a restart) or the checkpoint is older than the pending notice's compaction
  /// point (a newer notice raised it; see ``pendingSnapshotNotice``); the leader then asks
  /// again.
  ///
  /// The membership comes from the checkpoint because nothing else knows it: a leader's
  /// checkpoint may be newer than the log the notice described, and the notice may come from
  /// a leader whose uncommitted changes were since overwritten.
  @discardableResult
  public mutating func snapshotInstalled(_ installed: TermIndex, membership: Membership) -> Bool {
    precondition(outstandingReady == nil, "snapshotInstalled while a Ready is outstanding")
    return finishSnapshotInstall(SnapshotMetadata(last: installed, membership: membership))
  }

  /// The checkpoint install this peer is waiting for, with the newest compaction point a leader
  /// asked for (a later notice may raise the one first reported in a Ready).
  public var pendingSnapshotNotice: SnapshotNotice? {
    pendingNotice.map { SnapshotNotice(leader: $0.leader, leaderSnapshot: $0.request.leaderSnapshot) }
  }

  /// Tells the peer the checkpoint install failed; the leader will ask again.
  public mutating func snapshotInstallFailed() {
    guard let notice = pendingNotice else { return }
    pendingNotice = nil
    guard role == .follower else { return }
    send(to: leader ?? notice.leader, .snapshotStatus(.failed))
  }

  /// Tells a leader that `peer` could not be reached: stop streaming to it and probe instead.
  public mutating func reportUnreachable(_ peer: PeerID) {
    guard role == .leader, progress[peer]?.state == .replicate else { return }
    progress[peer]!.becomeProbe()
  }

  /// A picture of this peer for operators and tests.
  public var status: RaftStatus {
    RaftStatus(
      id: id, role: role, leader: leader,
      hardState: HardState(term: term, vote: vote, commit: log.committed),
      appliedIndex: log.applied, firstIndex: log.firstIndex, lastIndex: log.lastIndex,
      membership: membership, membershipIndex: membershipLog.current.index,
      transferTarget: transferTarget,
      progress: progress.keys.sorted().map { peer in
        let member = progress[peer]!
        return PeerProgress(
          peer: peer, match: member.match, next: member.next, state: member.state,
          inflightMessages: member.inflights.count, recentlyActive: member.recentActive,
          isLearner: member.isLearner)
      })
  }

  /// The membership entries after the compaction point decide the membership in force.
  private mutating func replayMembershipEntries() {
    var next = log.firstIndex
    while next <= log.lastIndex {
      let batch = log.entries(in: next..<(log.lastIndex + 1), payloadBytesMax: 1 << 20)
      membershipLog.append(batch)
      next = batch.last!.index + 1
    }
  }
}

extension RaftNode: Sendable where Storage: Sendable {}
