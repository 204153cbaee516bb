import Foundation
import Logging
import O3Threads
import RaftCore

/// The thread that owns the Raft core: it takes inputs in batches, ticks the core on time, and
/// runs one Ready at a time through persist → send → apply → advance, all on this thread (as etcd
/// does). While a Ready's fsync runs, inputs gather in the inbox; the next batch steps them all,
/// so the next Ready's one fsync covers everything that arrived meanwhile (group commit).
final class RaftLoop: @unchecked Sendable {
  // @unchecked: `inbox` and `lifecycle` are guarded by `condition`; every other mutable field is
  // touched only on the loop thread.
  private let condition = NSCondition()
  private var inbox: [RaftInput] = []
  private var lifecycle = Lifecycle.notStarted

  /// The loop thread's life. Inputs are accepted until `stop()`.
  private enum Lifecycle {
    case notStarted
    case running
    /// `stop()` was called: the thread finishes the Ready it is persisting, then ends.
    case stopping
    case stopped
  }

  /// The Ready the loop works on: one at a time, the next taken once the core has advanced.
  enum ReadyState {
    /// None: the next Ready may be taken from the core.
    case idle
    /// Being persisted, then acted on (`pumpReady` to the end of `finishReady`).
    case inFlight(Ready)
    /// Its persist failed on a full disk: kept, and persisted again after a backoff
    /// (`RaftLoop+Stall.swift`); new requests are refused meanwhile.
    case stalled(Ready, PersistStall)
    /// Its persist failed otherwise: Raft takes no more Readies. `stall` is the full-disk stall
    /// it failed in, if any; requests stay refused as they were during it.
    case failed(Error, stall: PersistStall?)
  }

  var node: RaftNode<AnyRaftLogStore>
  let log: any RaftLogStore
  let transport: any RaftTransport
  let applier: ApplyLoop
  let pending: PendingRequests
  let configuration: RaftServerConfiguration
  let logger: Logger
  var readyState = ReadyState.idle
  var lastSoftState: SoftState?
  /// Whether a checkpoint install runs. Not part of `readyState`: the install runs on the apply
  /// thread while many Readies come and go.
  var installingSnapshot = false
  let statistics: RaftStatisticsBox

  init(
    node: RaftNode<AnyRaftLogStore>, log: any RaftLogStore, transport: any RaftTransport, applier: ApplyLoop,
    pending: PendingRequests, configuration: RaftServerConfiguration, statistics: RaftStatisticsBox, logger: Logger
  ) {
    self.node = node
    self.log = log
    self.transport = transport
    self.applier = applier
    self.pending = pending
    self.configuration = configuration
    self.statistics = statistics
    self.logger = logger
  }

  func start() {
    condition.withLock {
      precondition(lifecycle == .notStarted, "the Raft loop starts once")
      lifecycle = .running
    }
    let thread = Thread { [self] in
      nameCurrentThread("raft-loop")
      run()
      condition.withLock {
        lifecycle = .stopped
        condition.broadcast()
      }
    }
    thread.name = "raft-loop-\(configuration.raft.id)"
    thread.start()
  }

  /// Queues an input for the loop; returns false when the loop has stopped.
  @discardableResult
  func enqueue(_ input: RaftInput) -> Bool {
    condition.withLock {
      switch lifecycle {
      case .notStarted, .running:
        inbox.append(input)
        condition.signal()
        return true
      case .stopping, .stopped:
        return false
      }
    }
  }

  /// Stops the loop and waits until it has finished (a Ready being persisted is finished first).
  func stop() {
    condition.withLock {
      switch lifecycle {
      case .notStarted: lifecycle = .stopped
      case .running: lifecycle = .stopping
      case .stopping, .stopped: break
      }
      condition.broadcast()
      while lifecycle == .stopping { condition.wait() }
    }
  }

  private func run() {
    var nextTick = Date().addingTimeInterval(Double(configuration.tickMilliseconds) / 1000)
    while let inputs = takeInputs(until: nextTick) {
      for input in inputs { handle(input) }
      let now = Date()
      if now >= nextTick {
        node.tick()
        pending.expire(now: now)
        retryStalledPersistIfDue()
        nextTick = now.addingTimeInterval(Double(configuration.tickMilliseconds) / 1000)
      }
      pumpReady()
    }
    pending.failAll(.stopped)
  }

  /// Waits for inputs or the tick deadline; nil once stopping.
  private func takeInputs(until deadline: Date) -> [RaftInput]? {
    condition.withLock {
      while inbox.isEmpty && lifecycle == .running && Date() < deadline {
        _ = condition.wait(until: deadline)
      }
      guard lifecycle == .running else { return nil }
      let taken = inbox
      inbox = []
      return taken
    }
  }

  private func handle(_ input: RaftInput) {
    if refusedWhileStalled(input) { return }
    switch input {
    case .messages(let messages):
      for message in messages { node.step(message) }
    case .propose(let data, let waiter):
      do {
        let position = try node.propose(data)
        pending.addProposal(at: position, timeoutMilliseconds: configuration.requestTimeoutMilliseconds, waiter)
      } catch {
        waiter(.failure(.from(error)))
      }
    case .membershipChange(let change, let waiter):
      do {
        let position = try node.proposeMembershipChange(change)
        pending.addProposal(at: position, timeoutMilliseconds: configuration.requestTimeoutMilliseconds, waiter)
      } catch {
        waiter(.failure(.from(error)))
      }
    case .read(let request, let waiter):
      startRead(request, waiter)
    case .transfer(let target, let completion):
      do {
        try node.transferLeader(to: target)
        completion(nil)
      } catch {
        completion(.from(error))
      }
    case .snapshotInstalled(let installed):
      installingSnapshot = false
      if let installed {
        if !node.snapshotInstalled(installed.position, membership: installed.membership) {
          logger.warning("the core refused the checkpoint installed at \(installed.position); the leader will notify again")
        }
      } else {
        node.snapshotInstallFailed()
      }
    case .unreachable(let peer):
      node.reportUnreachable(peer)
    case .status(let completion):
      completion(node.status)
    }
  }

  private func startRead(_ request: [UInt8], _ waiter: @escaping ReadWaiter) {
    let context = pending.addRead(request: request, waiter: waiter, timeoutMilliseconds: configuration.requestTimeoutMilliseconds)
    do {
      try node.readIndex(context: context)
    } catch {
      pending.failRead(context: context, .from(error))
    }
  }
}
