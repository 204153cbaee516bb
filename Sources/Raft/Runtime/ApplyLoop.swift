import Foundation
import Logging
import O3Threads
import RaftCore

/// The thread that feeds committed entries to the state machine in log order, completes
/// proposals with the responses, runs reads whose index has been applied, takes a snapshot
/// every `RaftLogRetention.snapshotAutoTriggerThreshold` entries and purges the log behind it.
final class ApplyLoop: @unchecked Sendable {
  // @unchecked: `queue` and `stopping` are guarded by `condition`; the other mutable fields are
  // touched only on the apply thread, except `appliedSnapshot` and `lastSnapshotShared`, read
  // through `appliedPosition` and `lastSnapshot` under the same lock.
  private let condition = NSCondition()
  private var queue: [Work] = []
  private var stopping = false
  private var running = false
  private var appliedSnapshot = TermIndex.zero
  private var lastSnapshotShared = TermIndex.zero
  private var leaderTermSnapshot: (leader: PeerID?, term: UInt64, isLocal: Bool) = (nil, 0, false)

  private enum Work {
    case entries([LogEntry])
    case leaderChanged(PeerID?, term: UInt64, isLocalLeader: Bool)
    case snapshotInstalled(TermIndex)
    case install(leader: PeerID, firstLogIndex: TermIndex, completion: @Sendable (InstalledCheckpoint?) -> Void)
    case failed(Error)
    case runReads
  }

  private let stateMachine: any ReplicatedStateMachine
  private let pending: PendingRequests
  private let log: any RaftLogStore
  private let retention: RaftLogRetention
  private let logger: Logger
  private let onFatalError: @Sendable (Error) -> Void
  private var applied: TermIndex
  /// The last snapshot: what the state machine promised durable and the log is purged behind.
  private var lastSnapshot: TermIndex
  /// Where the last automatic snapshot was tried (a failed one waits a threshold too).
  private var lastSnapshotAttemptIndex: UInt64
  /// Set by the first fatal error, which is reported once; from then on nothing reaches the
  /// state machine. A process that exits on the error never sees the difference; one that hosts
  /// several groups stops only the failed group, and must not let it apply past the failure
  /// while that happens.
  private var failed = false
  /// The name of the apply thread (`Thread.name`): which group's, when a process hosts several.
  private let threadName: String

  init(
    stateMachine: any ReplicatedStateMachine, pending: PendingRequests, log: any RaftLogStore,
    retention: RaftLogRetention, logger: Logger, threadName: String = "raft-apply",
    onFatalError: @escaping @Sendable (Error) -> Void
  ) {
    self.threadName = threadName
    self.stateMachine = stateMachine
    self.pending = pending
    self.log = log
    self.retention = retention
    self.logger = logger
    self.onFatalError = onFatalError
    self.applied = stateMachine.durablyAppliedIndex
    self.appliedSnapshot = applied
    // What the state machine restarts from is durable: it counts as the first snapshot.
    self.lastSnapshot = applied
    self.lastSnapshotShared = applied
    self.lastSnapshotAttemptIndex = applied.index
  }

  func start() {
    condition.withLock { running = true }
    let thread = Thread { [self] in
      nameCurrentThread("raft-apply")
      run()
    }
    thread.name = threadName
    thread.start()
  }

  /// Stops after the work queued so far; waits for the thread to end.
  func stop() {
    condition.withLock {
      stopping = true
      condition.signal()
      while running { condition.wait() }
    }
  }

  func enqueue(_ entries: [LogEntry]) { push(.entries(entries)) }

  func leaderChanged(to leader: PeerID?, term: UInt64, isLocalLeader: Bool) {
    push(.leaderChanged(leader, term: term, isLocalLeader: isLocalLeader))
  }

  func snapshotInstalled(at position: TermIndex) { push(.snapshotInstalled(position)) }

  func installSnapshot(
    leader: PeerID, firstLogIndex: TermIndex, completion: @escaping @Sendable (InstalledCheckpoint?) -> Void
  ) {
    push(.install(leader: leader, firstLogIndex: firstLogIndex, completion: completion))
  }

  func fail(_ error: Error) { push(.failed(error)) }

  /// Read indexes became known: run those the apply has already reached.
  func readIndexesKnown() { push(.runReads) }

  /// The last applied entry, and whether this peer leads and has applied an entry of its term
  /// (only then is it "ready": its state machine has caught up with everything committed
  /// before it took over).
  var appliedPosition: TermIndex { condition.withLock { appliedSnapshot } }

  /// The position of the last snapshot (automatic, requested, or an installed checkpoint).
  var lastSnapshotPosition: TermIndex { condition.withLock { lastSnapshotShared } }

  var isLeaderReady: Bool {
    condition.withLock { leaderTermSnapshot.isLocal && appliedSnapshot.term == leaderTermSnapshot.term }
  }

  private func push(_ work: Work) {
    condition.withLock {
      queue.append(work)
      condition.signal()
    }
  }

  private func run() {
    while let batch = takeWork() {
      for work in batch { perform(work) }
    }
    condition.withLock {
      running = false
      condition.broadcast()
    }
  }

  private func takeWork() -> [Work]? {
    condition.withLock {
      while queue.isEmpty && !stopping { condition.wait() }
      if queue.isEmpty { return nil }
      let taken = queue
      queue = []
      return taken
    }
  }

  private func perform(_ work: Work) {
    if failed {
      if case .install(_, _, let completion) = work { completion(nil) }
      return
    }
    switch work {
    case .entries(let entries): apply(entries)
    case .leaderChanged(let leader, let term, let isLocal):
      condition.withLock { leaderTermSnapshot = (leader, term, isLocal) }
      stateMachine.leaderChanged(to: leader, term: term)
    case .snapshotInstalled(let position):
      if position.index > applied.index {
        setApplied(position)
        recordSnapshot(position)
      }
    case .install(let leader, let firstLogIndex, let completion):
      completion(runInstall(leader: leader, firstLogIndex: firstLogIndex))
    case .failed(let error):
      failed = true
      onFatalError(error)
    case .runReads:
      runReads()
    }
  }

  private func apply(_ entries: [LogEntry]) {
    // The state machine may already hold entries (restart, installed checkpoint): skip those.
    let fresh = entries.filter { $0.index > applied.index }
    guard let last = fresh.last else { return }
    let committed = fresh.map { CommittedEntry(termIndex: $0.termIndex, kind: $0.kind, data: $0.data) }
    let responses: [[UInt8]]
    do {
      responses = try stateMachine.apply(committed[...])
    } catch {
      logger.critical("stopping Raft: the state machine failed to apply up to \(last.termIndex): \(error)")
      failed = true
      onFatalError(error)
      return
    }
    precondition(responses.count == committed.count, "the state machine must answer every entry")
    if let requested = stateMachine.takePurgeRequest() { purgeAtOnce(through: requested) }
    for (entry, response) in zip(committed, responses) {
      pending.applied(entry.termIndex, response: response)
    }
    setApplied(last.termIndex)
    snapshotIfDue()
  }

  private func setApplied(_ position: TermIndex) {
    applied = position
    condition.withLock { appliedSnapshot = position }
    runReads()
  }

  private func runReads() {
    for read in pending.readsReady(appliedIndex: applied.index) {
      read.waiter(Result { try stateMachine.query(read.request) }.mapError { _ in RaftServerError.stopped })
    }
  }

  /// Takes an automatic snapshot when `RaftLogRetention` says one is due, then purges the log
  /// through the snapshot minus the purge gap.
  private func snapshotIfDue() {
    guard retention.isSnapshotDue(appliedIndex: applied.index, lastSnapshotIndex: lastSnapshotAttemptIndex) else {
      return
    }
    lastSnapshotAttemptIndex = applied.index
    let snapshot: TermIndex
    do {
      snapshot = try stateMachine.takeSnapshot()
    } catch {
      logger.error("taking a snapshot at \(applied) failed; the Raft log keeps its entries until the next one: \(error)")
      return
    }
    guard snapshot.index > lastSnapshot.index else { return }
    let purgeIndex = retention.purgeIndex(snapshotIndex: snapshot.index, firstLogIndex: log.firstIndex)
    logger.info(
      "took a snapshot",
      metadata: [
        "snapshot": "\(snapshot)", "purgeThrough": "\(purgeIndex.map { "\($0)" } ?? "nothing")",
        "logFirstIndex": "\(log.firstIndex)", "logLastIndex": "\(log.lastIndex)",
      ])
    if let purgeIndex { purge(through: purgeIndex) }
    recordSnapshot(snapshot)
  }

  /// The state machine made `position` durable while applying and asked for the log to be
  /// purged through it with no gap (Ozone's Prepare).
  private func purgeAtOnce(through position: TermIndex) {
    logger.info("purging the Raft log through a snapshot the state machine requested", metadata: ["snapshot": "\(position)"])
    if position.index >= log.firstIndex { purge(through: position.index) }
    if position.index > lastSnapshot.index { recordSnapshot(position) }
  }

  /// Readers of `lastSnapshotPosition` see a snapshot once the purge behind it is done.
  private func recordSnapshot(_ position: TermIndex) {
    lastSnapshot = position
    lastSnapshotAttemptIndex = max(lastSnapshotAttemptIndex, position.index)
    condition.withLock { lastSnapshotShared = position }
  }

  private func purge(through index: UInt64) {
    do {
      try log.purge(through: index)
    } catch {
      logger.error("purging the Raft log through \(index) failed: \(error)")
    }
  }

  /// Runs the state machine's install on the apply thread's behalf and waits for it, so that
  /// nothing is applied meanwhile.
  private func runInstall(leader: PeerID, firstLogIndex: TermIndex) -> InstalledCheckpoint? {
    let result = InstallResult()
    let stateMachine = self.stateMachine
    let logger = self.logger
    Task.detached {
      do {
        result.finish(try await stateMachine.installSnapshotFromLeader(leader: leader, firstLogIndex: firstLogIndex))
      } catch {
        logger.warning("installing a checkpoint from \(leader) failed, will retry when notified again: \(error)")
        result.finish(nil)
      }
    }
    let installed = result.wait()
    if let installed, installed.position.index > applied.index {
      setApplied(installed.position)
      recordSnapshot(installed.position)
    }
    return installed
  }
}

/// A value one thread produces and the apply thread waits for.
private final class InstallResult: @unchecked Sendable {
  // @unchecked: `value` and `done` are guarded by `condition`.
  private let condition = NSCondition()
  private var value: InstalledCheckpoint?
  private var done = false

  func finish(_ installed: InstalledCheckpoint?) {
    condition.withLock {
      value = installed
      done = true
      condition.signal()
    }
  }

  func wait() -> InstalledCheckpoint? {
    condition.withLock {
      while !done { condition.wait() }
      return value
    }
  }
}
