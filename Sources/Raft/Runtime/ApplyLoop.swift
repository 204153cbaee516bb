import Foundation
import Logging
import RaftCore

/// The thread that feeds committed entries to the state machine in log order, completes
/// proposals with the responses, runs reads whose index has been applied, and purges the log
/// behind the state machine's durably applied index.
final class ApplyLoop: @unchecked Sendable {
  // @unchecked: `queue` and `stopping` are guarded by `condition`; the other mutable fields are
  // touched only on the apply thread, except `appliedSnapshot`, read through `appliedPosition`
  // under the same lock.
  private let condition = NSCondition()
  private var queue: [Work] = []
  private var stopping = false
  private var running = false
  private var appliedSnapshot = TermIndex.zero
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
  private let purgeGap: UInt64
  private let logger: Logger
  private let onFatalError: @Sendable (Error) -> Void
  private var applied: TermIndex

  init(
    stateMachine: any ReplicatedStateMachine, pending: PendingRequests, log: any RaftLogStore, purgeGap: UInt64,
    logger: Logger, onFatalError: @escaping @Sendable (Error) -> Void
  ) {
    self.stateMachine = stateMachine
    self.pending = pending
    self.log = log
    self.purgeGap = purgeGap
    self.logger = logger
    self.onFatalError = onFatalError
    self.applied = stateMachine.durablyAppliedIndex
    self.appliedSnapshot = applied
  }

  func start() {
    condition.withLock { running = true }
    let thread = Thread { [self] in run() }
    thread.name = "raft-apply"
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
    switch work {
    case .entries(let entries): apply(entries)
    case .leaderChanged(let leader, let term, let isLocal):
      condition.withLock { leaderTermSnapshot = (leader, term, isLocal) }
      stateMachine.leaderChanged(to: leader, term: term)
    case .snapshotInstalled(let position):
      if position.index > applied.index { setApplied(position) }
    case .install(let leader, let firstLogIndex, let completion):
      completion(runInstall(leader: leader, firstLogIndex: firstLogIndex))
    case .failed(let error):
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
      onFatalError(error)
      return
    }
    precondition(responses.count == committed.count, "the state machine must answer every entry")
    for (entry, response) in zip(committed, responses) {
      pending.applied(entry.termIndex, response: response)
    }
    setApplied(last.termIndex)
    purgeIfDue()
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

  private func purgeIfDue() {
    let durable = stateMachine.durablyAppliedIndex.index
    guard durable > purgeGap, durable - purgeGap >= log.firstIndex else { return }
    do {
      try log.purge(through: durable - purgeGap)
    } catch {
      logger.error("purging the Raft log through \(durable - purgeGap) failed: \(error)")
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
    if let installed, installed.position.index > applied.index { setApplied(installed.position) }
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
