import Logging
import RaftCore

/// The runtime's Ready handling, once: it takes a Ready from the core, persists it, sends,
/// hands committed entries and reads on, and advances the core, in the order RaftCore's
/// durability contract asks for. It does no I/O itself: the log, the transport and the apply
/// side are seams, and time reaches it only as ``tick()``.
///
/// The runtime's loop thread drives it with the durable log, the RPC transport and the apply
/// thread; the simulator drives the same code with its simulated disk (torn writes, lost
/// unsynced tails), network and virtual clock, so the seeds test what production runs.
///
/// One Ready at a time: the next is taken once the core has advanced past the last. A leader's
/// appends leave before its own sync (`messagesMayPrecedePersistence`), so followers persist in
/// parallel; every other message waits until its Ready is durable.
package final class ReadyHandler<Storage: RaftStorage> {
  /// The Ready the handler works on.
  enum State {
    /// None: the next Ready may be taken from the core.
    case idle
    /// Being persisted: its writes run, or the log's sync it waits for. `recovering` is the
    /// full-disk stall this attempt may end.
    case inFlight(Ready, recovering: PersistStall?)
    /// Its persist failed on a full disk: kept, and persisted again after a backoff
    /// (`ReadyHandler+Stall.swift`).
    case stalled(Ready, PersistStall)
    /// Its persist failed otherwise: no more Readies. `stall` is the full-disk stall it failed
    /// in, if any.
    case failed(Error, stall: PersistStall?)
  }

  package var node: RaftNode<Storage>
  let log: any ReadyLog
  let transport: any ReadyTransport
  let handOff: any ReadyHandOff
  let statistics: RaftStatisticsBox
  /// The length of a tick, to count a full-disk backoff in ticks.
  let tickMilliseconds: Int
  let logger: Logger
  var state = State.idle
  private var lastSoftState: SoftState?
  /// Whether a checkpoint install runs. Not part of `state`: the install runs while many
  /// Readies come and go.
  private var installingSnapshot = false
  /// A checkpoint installed while a Ready was in flight: the core hears of it after `advance()`.
  private var installedDuringReady: InstalledCheckpoint?

  package init(
    node: RaftNode<Storage>, log: any ReadyLog, transport: any ReadyTransport, handOff: any ReadyHandOff,
    tickMilliseconds: Int, statistics: RaftStatisticsBox = RaftStatisticsBox(),
    logger: Logger = Logger(label: "o3.raft.ready", factory: { _ in SwiftLogNoOpLogHandler() })
  ) {
    self.node = node
    self.log = log
    self.transport = transport
    self.handOff = handOff
    self.tickMilliseconds = tickMilliseconds
    self.statistics = statistics
    self.logger = logger
  }

  /// Whether no Ready is in flight, stalled or failed.
  package var isIdle: Bool {
    if case .idle = state { return true }
    return false
  }

  /// Whether new requests are refused: during a full-disk stall (or a failure that ended one),
  /// as none could complete before the disk has space again.
  package var refusesRequests: Bool {
    switch state {
    case .stalled, .inFlight(_, recovering: .some), .failed(_, stall: .some): true
    case .idle, .inFlight(_, recovering: nil), .failed(_, stall: nil): false
    }
  }

  /// One tick of time: the core's timers, and a full-disk stall's backoff.
  package func tick() {
    node.tick()
    retryStalledPersistIfDue()
  }

  /// Takes the next Ready when none is in flight and persists it; it is finished at once when
  /// the log's sync is (or is not needed), else when ``syncFinished(_:)`` is called. Returns
  /// whether a Ready was taken.
  @discardableResult
  package func pumpReady() -> Bool {
    guard case .idle = state, node.hasReady else { return false }
    var ready = node.ready()
    noteSoftState(ready.softState)
    learnAddresses(ready.entries)
    if ready.messagesMayPrecedePersistence && !ready.messages.isEmpty {
      transport.send(ready.messages)
      ready.messages = []
    }
    state = .inFlight(ready, recovering: nil)
    persist(ready, from: .snapshot)
    return true
  }

  /// The log's pending sync ended (`error` nil: everything written is durable).
  package func syncFinished(_ error: Error?) {
    guard case .inFlight(let ready, _) = state else { preconditionFailure("no sync is awaited") }
    if let error {
      finishReady(failure: PersistFailure(step: .sync, underlying: error))
      return
    }
    statistics.recordSync(entries: ready.entries.count)
    finishReady(failure: nil)
  }

  /// The state machine installed the checkpoint a ``SnapshotNotice`` asked for. Returns whether
  /// the core took it, or nil when it hears of it once the Ready in flight is advanced (the
  /// core takes an install only between Readies).
  @discardableResult
  package func snapshotInstalled(_ installed: InstalledCheckpoint) -> Bool? {
    installingSnapshot = false
    guard isIdle else {
      installedDuringReady = installed
      return nil
    }
    return tellCore(installed)
  }

  /// The checkpoint install failed; the leader will notify again.
  package func snapshotInstallFailed() {
    installingSnapshot = false
    node.snapshotInstallFailed()
  }

  /// Persists `ready` from `first` on (the earlier steps are done), then finishes it unless
  /// the log's sync is still running. Syncs only when the Ready must be durable (a new commit
  /// index alone stays in the log's memory until its next sync).
  func persist(_ ready: Ready, from first: PersistStep) {
    var step = first
    do {
      if step == .snapshot, let snapshot = ready.snapshot { try log.installSnapshot(snapshot) }
      step = max(step, .entries)
      if step == .entries, !ready.entries.isEmpty { try log.append(ready.entries) }
      step = max(step, .hardState)
      if step == .hardState, let hardState = ready.hardState { try log.setHardState(hardState) }
      step = .sync
      if ready.mustSync {
        guard try log.sync() == .durable else { return }
        statistics.recordSync(entries: ready.entries.count)
      }
    } catch {
      finishReady(failure: PersistFailure(step: step, underlying: error))
      return
    }
    finishReady(failure: nil)
  }

  /// The Ready is durable: send its messages, hand its committed entries and reads on, start a
  /// checkpoint install if asked, and let the core advance. A full disk keeps the Ready for a
  /// retry (``stallPersist(_:_:existing:)``); any other failure stops Raft.
  private func finishReady(failure: PersistFailure?) {
    guard case .inFlight(let ready, let stall) = state else { preconditionFailure("no Ready in flight") }
    if let failure {
      if failure.isOutOfSpace {
        stallPersist(ready, failure, existing: stall)
        return
      }
      // Losing the log is fatal: answering anything now could break Raft's promises.
      state = .failed(failure.underlying, stall: stall)
      logger.critical("stopping Raft: the log could not be written: \(failure.underlying)")
      handOff.persistFailed(failure.underlying)
      return
    }
    if let stall {
      logger.notice("the Raft log is writable again after \(stall.failedAttempts) failed attempts; resuming")
    }
    if !ready.messages.isEmpty { transport.send(ready.messages) }
    if let snapshot = ready.snapshot { handOff.logRestarted(at: snapshot.last) }
    if !ready.committedEntries.isEmpty { handOff.apply(ready.committedEntries) }
    if !ready.readStates.isEmpty { handOff.readsConfirmed(ready.readStates) }
    if let notice = ready.snapshotNotice { startSnapshotInstall(notice) }
    node.advance()
    state = .idle
    if let installed = installedDuringReady {
      installedDuringReady = nil
      tellCore(installed)
    }
  }

  @discardableResult
  private func tellCore(_ installed: InstalledCheckpoint) -> Bool {
    let accepted = node.snapshotInstalled(installed.position, membership: installed.membership)
    if !accepted {
      logger.warning("the core refused the checkpoint installed at \(installed.position); the leader will notify again")
    }
    return accepted
  }

  private func noteSoftState(_ softState: SoftState?) {
    guard let softState, softState != lastSoftState else { return }
    let previous = lastSoftState
    lastSoftState = softState
    handOff.roleChanged(to: softState, from: previous, term: node.term)
    logger.info("role \(softState.role.rawValue), leader \(softState.leader.map(\.description) ?? "none"), term \(node.term)")
  }

  /// A membership change takes effect when appended, so the transport must learn a new peer's
  /// address (carried in the change's context) as soon as the entry is in a Ready.
  private func learnAddresses(_ entries: [LogEntry]) {
    for entry in entries where entry.kind == .membershipChange {
      guard let change = try? MembershipChange(decoding: entry.data), !change.context.isEmpty else { continue }
      if let address = String(validating: change.context, as: UTF8.self) {
        transport.setAddress(address, of: change.peer)
      }
    }
  }

  private func startSnapshotInstall(_ notice: SnapshotNotice) {
    guard !installingSnapshot else { return }
    installingSnapshot = true
    logger.info("installing a checkpoint from leader \(notice.leader): its log starts at \(notice.leaderFirstIndex)")
    handOff.installSnapshot(notice)
  }
}
