import Foundation
import O3Threads
import Logging
import RaftCore

/// A running Raft peer: the core on its loop thread, the log on disk, the transport, and the
/// apply thread feeding a `ReplicatedStateMachine`.
public final class RaftServer: Sendable {
  public let id: PeerID
  private let loop: RaftLoop
  private let applier: ApplyLoop
  private let transport: any RaftTransport
  private let log: any RaftLogStore
  private let statisticsBox: RaftStatisticsBox
  private let logger: Logger

  /// Starts a peer. A brand-new log is bootstrapped with `initialMembership` (the founding
  /// members of a new group); a peer that joins an existing group passes nil and learns the
  /// membership from the leader.
  ///
  /// - Parameter onFatalError: called when the log or the state machine fails; the replica must
  ///   stop (continuing could diverge). The default logs and exits.
  /// - Throws: when the transport cannot start; nothing of the peer keeps running then, and the
  ///   log is left open for the caller to close.
  public static func start(
    configuration: RaftServerConfiguration, log: any RaftLogStore, initialMembership: Membership?,
    stateMachine: any ReplicatedStateMachine, transport: any RaftTransport, logger: Logger,
    onFatalError: @escaping @Sendable (Error) -> Void = RaftServer.exitOnFatalError
  ) async throws -> RaftServer {
    if log.lastIndex == 0 && log.hardState == HardState(), let initialMembership {
      let bootstrap = BootstrapLog(membership: initialMembership)
      try await onOwnThread("raft-bootstrap") {
        try log.append(bootstrap.entries)
        try log.setHardState(bootstrap.hardState)
        try log.sync()
      }
    }
    var raft = configuration.raft
    raft.appliedIndex = min(stateMachine.durablyAppliedIndex.index, log.hardState.commit)
    var node = try RaftNode(configuration: raft, storage: AnyRaftLogStore(base: log), random: SystemRaftRandom())
    // A group of one has nobody to wait for: campaign at once instead of after an election
    // timeout (a single OM would otherwise refuse writes for its first 5–10 s).
    if node.membership.voters == [raft.id] { node.campaign() }
    let pending = PendingRequests(clock: configuration.clock)
    let applier = ApplyLoop(
      stateMachine: stateMachine, pending: pending, log: log, retention: configuration.retention, logger: logger,
      threadName: configuration.threadName("raft-apply"), onFatalError: onFatalError)
    let statistics = RaftStatisticsBox()
    let loop = RaftLoop(
      node: node, log: log, transport: transport, applier: applier, pending: pending, configuration: configuration,
      statistics: statistics, logger: logger)
    applier.start()
    loop.start()
    do {
      try await transport.start(
        receive: { messages in loop.enqueue(.messages(messages)) },
        onUnreachable: { peer in loop.enqueue(.unreachable(peer)) })
    } catch {
      // The threads stop before the error returns: the log stays the caller's, untouched.
      await onOwnThread("raft-stop") {
        loop.stop()
        applier.stop()
      }
      throw error
    }
    return RaftServer(
      id: raft.id, loop: loop, applier: applier, transport: transport, log: log, statistics: statistics, logger: logger)
  }

  private init(
    id: PeerID, loop: RaftLoop, applier: ApplyLoop, transport: any RaftTransport, log: any RaftLogStore,
    statistics: RaftStatisticsBox, logger: Logger
  ) {
    self.log = log
    self.id = id
    self.loop = loop
    self.applier = applier
    self.transport = transport
    self.statisticsBox = statistics
    self.logger = logger
  }

  /// Proposes `data`; `completion` gets the state machine's response once the entry is applied
  /// here (on the apply thread), or the reason it was not.
  public func propose(_ data: [UInt8], completion: @escaping @Sendable (Result<[UInt8], RaftServerError>) -> Void) {
    if !loop.enqueue(.propose(data, completion)) { completion(.failure(.stopped)) }
  }

  public func propose(_ data: [UInt8]) async throws(RaftServerError) -> [UInt8] {
    let result = await withCheckedContinuation { continuation in
      propose(data) { continuation.resume(returning: $0) }
    }
    return try result.get()
  }

  /// A linearizable read: confirmed by a ReadIndex round (or the lease, in lease mode), run by
  /// `ReplicatedStateMachine.query` once everything up to the read index is applied here.
  public func query(_ request: [UInt8], completion: @escaping @Sendable (Result<[UInt8], RaftServerError>) -> Void) {
    if !loop.enqueue(.read(request, completion)) { completion(.failure(.stopped)) }
  }

  public func query(_ request: [UInt8]) async throws(RaftServerError) -> [UInt8] {
    let result = await withCheckedContinuation { continuation in
      query(request) { continuation.resume(returning: $0) }
    }
    return try result.get()
  }

  /// Hands leadership to `target` (which must be a voter); returns once the transfer started.
  public func transferLeadership(to target: PeerID) async throws(RaftServerError) {
    let error = await withCheckedContinuation { (continuation: CheckedContinuation<RaftServerError?, Never>) in
      if !loop.enqueue(.transfer(target, { continuation.resume(returning: $0) })) {
        continuation.resume(returning: .stopped)
      }
    }
    if let error { throw error }
  }

  /// Adds `peer` as a learner that listens at `address`; returns once the change is committed.
  public func addLearner(_ peer: PeerID, address: String) async throws(RaftServerError) {
    try await changeMembership(MembershipChange(.addLearner, peer: peer, context: Array(address.utf8)))
  }

  /// Promotes a caught-up learner to voter.
  public func promote(_ peer: PeerID) async throws(RaftServerError) {
    try await changeMembership(MembershipChange(.promoteLearner, peer: peer))
  }

  /// Removes a peer (voter or learner) from the group.
  public func remove(_ peer: PeerID) async throws(RaftServerError) {
    try await changeMembership(MembershipChange(.removePeer, peer: peer))
  }

  private func changeMembership(_ change: MembershipChange) async throws(RaftServerError) {
    let result = await withCheckedContinuation { continuation in
      if !loop.enqueue(.membershipChange(change, { continuation.resume(returning: $0) })) {
        continuation.resume(returning: .failure(.stopped))
      }
    }
    _ = try result.get()
  }

  /// The core's view (role, term, leader, commit, per-peer progress) plus what is applied.
  public func status() async -> RaftServerStatus? {
    let core = await withCheckedContinuation { (continuation: CheckedContinuation<RaftStatus?, Never>) in
      if !loop.enqueue(.status({ continuation.resume(returning: $0) })) { continuation.resume(returning: nil) }
    }
    guard let core else { return nil }
    return RaftServerStatus(
      core: core, applied: applier.appliedPosition, isLeaderReady: applier.isLeaderReady,
      lastSnapshot: applier.lastSnapshotPosition)
  }

  /// The last snapshot the log was purged behind (see `RaftLogRetention`): automatic, requested
  /// by the state machine, or an installed checkpoint; at start, what the state machine held.
  public var lastSnapshot: TermIndex { applier.lastSnapshotPosition }

  /// The bytes and segment files of the Raft log on disk.
  public var logDiskUsage: RaftLogDiskUsage { log.diskUsage }

  /// Whether this peer leads and has applied an entry of its own term.
  public var isLeaderReady: Bool { applier.isLeaderReady }

  public var statistics: RaftStatistics { statisticsBox.snapshot }

  /// Stops the transport, the loop and the apply thread (after what it already queued), then
  /// closes the log. The joins wait on a thread of their own: the apply thread may itself be
  /// waiting for async work (a checkpoint install), which needs the cooperative pool.
  public func shutdown() async {
    await transport.shutdown()
    let (loop, applier, log) = (self.loop, self.applier, self.log)
    await onOwnThread("raft-stop") {
      loop.stop()
      applier.stop()
      log.close()
    }
  }

  /// The default fatal-error action: say why and stop the process.
  public static let exitOnFatalError: @Sendable (Error) -> Void = { error in
    Logger(label: "o3.raft").critical("stopping: Raft cannot continue safely: \(error)")
    exit(1)
  }
}

/// What admin tools show about a peer.
public struct RaftServerStatus: Sendable {
  public var core: RaftStatus
  public var applied: TermIndex
  public var isLeaderReady: Bool
  /// The last snapshot the log was purged behind.
  public var lastSnapshot: TermIndex
}

/// Election jitter from the system generator (the simulator injects a seeded one instead).
struct SystemRaftRandom: RaftRandom {
  mutating func next(upperBound: Int) -> Int { Int.random(in: 0..<upperBound) }
}
