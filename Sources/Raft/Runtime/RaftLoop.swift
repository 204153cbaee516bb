import Foundation
import Logging
import O3Threads
import RaftCore

/// The thread that owns the Raft core: it takes inputs in batches, ticks the core on time, and
/// has its ``ReadyHandler`` run one Ready at a time through persist → send → apply → advance,
/// all on this thread (as etcd does). While a Ready's fsync runs, inputs gather in the inbox; the
/// next batch steps them all, so the next Ready's one fsync covers everything that arrived
/// meanwhile (group commit). The simulator drives the same `ReadyHandler`; what is left here is
/// the thread, the inbox, the clock and the requests waiting for answers.
final class RaftLoop: @unchecked Sendable {
  // @unchecked: `inbox` and `lifecycle` are guarded by `condition`; `readyHandler` (the core and its
  // Ready state) is touched only on the loop thread.
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

  /// The core and its Ready handling (persist, send, apply, advance), shared with the simulator.
  let readyHandler: ReadyHandler<AnyRaftLogStore>
  let pending: PendingRequests
  let configuration: RaftServerConfiguration
  let logger: Logger

  init(
    node: RaftNode<AnyRaftLogStore>, log: any RaftLogStore, transport: any RaftTransport, applier: ApplyLoop,
    pending: PendingRequests, configuration: RaftServerConfiguration, statistics: RaftStatisticsBox, logger: Logger
  ) {
    let handOff = ApplyHandOff(applier: applier, pending: pending)
    readyHandler = ReadyHandler(
      node: node, log: BlockingReadyLog(base: log), transport: TransportReadySeam(base: transport), handOff: handOff,
      tickMilliseconds: configuration.tickMilliseconds, statistics: statistics, logger: logger)
    self.pending = pending
    self.configuration = configuration
    self.logger = logger
    handOff.loop = self
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
    thread.name = configuration.threadName("raft-loop")
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
    let clock = configuration.clock
    var nextTick = clock.deadline(afterMilliseconds: configuration.tickMilliseconds)
    while let inputs = takeInputs(until: nextTick) {
      for input in inputs { handle(input) }
      let now = clock.nanoseconds
      if now >= nextTick {
        readyHandler.tick()
        pending.expire(now: now)
        nextTick = clock.deadline(afterMilliseconds: configuration.tickMilliseconds)
      }
      readyHandler.pumpReady()
    }
    pending.failAll(.stopped)
  }

  /// Waits for inputs or the tick deadline (an instant of `configuration.clock`); nil once
  /// stopping. The wait itself is the condition's, in real time, for as long as the clock says
  /// is left: a test's clock that stands still wakes the loop only when inputs arrive.
  private func takeInputs(until deadline: UInt64) -> [RaftInput]? {
    let clock = configuration.clock
    return condition.withLock {
      while inbox.isEmpty && lifecycle == .running {
        let now = clock.nanoseconds
        guard now < deadline else { break }
        _ = condition.wait(until: Date(timeIntervalSinceNow: Double(deadline - now) / 1e9))
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
      for message in messages { readyHandler.node.step(message) }
    case .propose(let data, let waiter):
      do {
        let position = try readyHandler.node.propose(data)
        pending.addProposal(at: position, timeoutMilliseconds: configuration.requestTimeoutMilliseconds, waiter)
      } catch {
        waiter(.failure(.from(error)))
      }
    case .membershipChange(let change, let waiter):
      do {
        let position = try readyHandler.node.proposeMembershipChange(change)
        pending.addProposal(at: position, timeoutMilliseconds: configuration.requestTimeoutMilliseconds, waiter)
      } catch {
        waiter(.failure(.from(error)))
      }
    case .read(let request, let waiter):
      startRead(request, waiter)
    case .transfer(let target, let completion):
      do {
        try readyHandler.node.transferLeader(to: target)
        completion(nil)
      } catch {
        completion(.from(error))
      }
    case .snapshotInstalled(let installed):
      if let installed {
        readyHandler.snapshotInstalled(installed)
      } else {
        readyHandler.snapshotInstallFailed()
      }
    case .unreachable(let peer):
      readyHandler.node.reportUnreachable(peer)
    case .status(let completion):
      completion(readyHandler.node.status)
    }
  }

  private func startRead(_ request: [UInt8], _ waiter: @escaping ReadWaiter) {
    let context = pending.addRead(request: request, waiter: waiter, timeoutMilliseconds: configuration.requestTimeoutMilliseconds)
    do {
      try readyHandler.node.readIndex(context: context)
    } catch {
      pending.failRead(context: context, .from(error))
    }
  }
}

extension RaftLoop {
  /// While the log's disk is full, refuses new proposals, membership changes and reads at once
  /// as not led here: none could complete before the disk has space again, and a refused request
  /// is not in the log, so the client may safely retry it on another replica. Requests already
  /// waiting keep waiting (their entries may still commit elsewhere).
  func refusedWhileStalled(_ input: RaftInput) -> Bool {
    guard readyHandler.refusesRequests else { return false }
    let node = readyHandler.node
    let refusal = RaftServerError.notLeader(leader: node.leader == node.id ? nil : node.leader)
    switch input {
    case .propose(_, let waiter), .membershipChange(_, let waiter), .read(_, let waiter):
      waiter(.failure(refusal))
      return true
    default:
      return false
    }
  }
}
