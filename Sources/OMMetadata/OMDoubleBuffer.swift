import Foundation
import O3Threads

/// Batches applied transactions and writes them to RocksDB on a background thread.
///
/// Apply appends to the *current* buffer; the flush thread swaps it with the empty *ready* buffer
/// and writes everything it took in one atomic WriteBatch whose last row is the batch's term#index
/// (so the database always says exactly which transactions it holds). After the write it evicts
/// the flushed cache entries, releases back-pressure and reports the flushed term#index.
///
/// Back-pressure: `add` blocks while `maxUnflushedTransactions` are waiting for a flush
/// (Ozone's `ozone.om.unflushed.transaction.max.count`, default 10000), bounding memory.
/// A failed write is fail-stop (`onFatalError`): continuing would let the replica diverge.
public final class OMDoubleBuffer: @unchecked Sendable {
  // @unchecked: every mutable field below is read and written only while holding `condition`.
  private let condition = NSCondition()
  private var current: [(termIndex: TermIndex, part: OMBatchPart)] = []
  private var unflushedCount = 0
  /// Row changes of the `unflushedCount` transactions: what they keep in memory until flushed.
  private var unflushedChanges = 0
  /// Whether flushes wait for `releaseFlushes`. Not part of `flushThread`: a hold may be asked
  /// for in any state and lasts until released or `stop()`.
  private var held = false
  private var flushThread = FlushThread.notStarted
  private var flushed: TermIndex
  private var waiters: [(index: UInt64, callback: @Sendable () -> Void)] = []
  private var flushCount = 0
  private var blockedAdders = 0

  /// The flush thread's life.
  private enum FlushThread {
    /// Built, or restarted, and not started yet.
    case notStarted
    case running
    /// `stop()` was called: the thread writes what is queued, then ends.
    case stopping
    /// Ended after `stop()`; `restart` makes the buffer usable again.
    case stopped
    /// Ended because a batch could not be written; `onFatalError` was told.
    case failed(Error)

    /// Whether the thread runs (it may still write what is queued).
    var isRunning: Bool {
      switch self {
      case .running, .stopping: true
      case .notStarted, .stopped, .failed: false
      }
    }

    /// Whether `stop()` was called since the last start: `add` no longer waits for room.
    var isStopping: Bool {
      switch self {
      case .stopping, .stopped: true
      case .notStarted, .running, .failed: false
      }
    }
  }

  private let store: OMMetadataStore
  private let maxUnflushedTransactions: Int
  private let syncWrites: Bool
  private let onFlushed: @Sendable (TermIndex) -> Void
  private let onFatalError: @Sendable (Error) -> Void

  /// - Parameters:
  ///   - syncWrites: fsync each batch, for a store with no other write-ahead log (tests). The OM
  ///     passes false: every OM, a single one too, runs Raft, whose log is the write-ahead log.
  ///   - onFlushed: called on the flush thread after each batch with its last term#index.
  ///   - onFatalError: called when a batch cannot be written; the caller must stop the replica.
  public init(
    store: OMMetadataStore, maxUnflushedTransactions: Int, syncWrites: Bool, flushedUpTo: TermIndex,
    onFlushed: @escaping @Sendable (TermIndex) -> Void = { _ in },
    onFatalError: @escaping @Sendable (Error) -> Void
  ) {
    precondition(maxUnflushedTransactions > 0)
    self.store = store
    self.maxUnflushedTransactions = maxUnflushedTransactions
    self.syncWrites = syncWrites
    self.flushed = flushedUpTo
    self.onFlushed = onFlushed
    self.onFatalError = onFatalError
  }

  public func start() {
    condition.withLock {
      guard case .notStarted = flushThread else { preconditionFailure("start a new or restarted buffer, once") }
      flushThread = .running
    }
    let thread = Thread { [self] in
      nameCurrentThread("om-flush")
      flushLoop()
    }
    thread.name = "om-double-buffer-flush"
    thread.start()
  }

  /// Queues one applied transaction; blocks while too many are unflushed.
  public func add(_ part: OMBatchPart, termIndex: TermIndex) {
    condition.withLock {
      while unflushedCount >= maxUnflushedTransactions && !flushThread.isStopping {
        blockedAdders += 1
        condition.wait()
        blockedAdders -= 1
      }
      precondition(current.last.map { $0.termIndex.index < termIndex.index } ?? (flushed.index < termIndex.index),
        "transactions must be added in log order")
      current.append((termIndex: termIndex, part: part))
      unflushedCount += 1
      unflushedChanges += part.changeCount
      condition.broadcast()
    }
  }

  /// Runs `callback` (on the flush thread, or now) once everything up to `index` is in RocksDB.
  public func whenFlushed(_ index: UInt64, _ callback: @escaping @Sendable () -> Void) {
    let alreadyFlushed = condition.withLock {
      if flushed.index >= index { return true }
      waiters.append((index: index, callback: callback))
      return false
    }
    if alreadyFlushed { callback() }
  }

  /// Blocks until every transaction added so far is in RocksDB (or the buffer stops).
  public func awaitFlush() {
    condition.withLock {
      while unflushedCount > 0 && flushThread.isRunning {
        condition.wait()
      }
    }
  }

  /// The term#index of the last transaction written to RocksDB.
  public var flushedTermIndex: TermIndex { condition.withLock { flushed } }

  /// How many batches have been written (a batch holds one or more transactions).
  public var batchCount: Int { condition.withLock { flushCount } }

  /// Row changes queued or being written: the table rows the buffer holds in memory.
  public var pendingChangeCount: Int { condition.withLock { unflushedChanges } }

  /// How many `add` calls are waiting for the flush to make room (back-pressure in effect).
  public var blockedAddCount: Int { condition.withLock { blockedAdders } }

  /// Holds every flush until `releaseFlushes` (or `stop`): a checkpoint is taken while held, and
  /// tests use it to read while RocksDB lags the cache.
  public func holdFlushes() {
    condition.withLock { held = true }
  }

  public func releaseFlushes() {
    condition.withLock {
      held = false
      condition.broadcast()
    }
  }

  /// Flushes what is queued, then stops the flush thread and waits for it to end.
  public func stop() {
    condition.withLock {
      switch flushThread {
      case .running: flushThread = .stopping
      case .notStarted, .failed: flushThread = .stopped
      case .stopping, .stopped: break
      }
      held = false
      condition.broadcast()
      while flushThread.isRunning {
        condition.wait()
      }
    }
  }

  /// Starts a stopped buffer again over a database that holds everything up to `flushedUpTo`
  /// (a checkpoint just installed, or the old database kept after a failed install).
  /// Waiters up to that index are released at once; later ones keep waiting.
  public func restart(flushedUpTo: TermIndex) {
    let due: [@Sendable () -> Void] = condition.withLock {
      precondition(!flushThread.isRunning && current.isEmpty, "restart needs a stopped, drained buffer")
      flushThread = .notStarted
      unflushedCount = 0
      unflushedChanges = 0
      flushed = flushedUpTo
      let due = waiters.filter { $0.index <= flushedUpTo.index }.map(\.callback)
      waiters.removeAll { $0.index <= flushedUpTo.index }
      return due
    }
    for callback in due { callback() }
    onFlushed(flushedUpTo)
    start()
  }

  private func flushLoop() {
    while let batch = takeBatch() {
      do {
        try store.write(batch, sync: syncWrites)
      } catch {
        condition.withLock {
          flushThread = .failed(error)
          condition.broadcast()
        }
        onFatalError(error)
        return
      }
      store.evict(batch)
      finish(batch)
    }
  }

  /// Waits for work and swaps the buffers; nil when stopping with nothing left.
  private func takeBatch() -> [(termIndex: TermIndex, part: OMBatchPart)]? {
    condition.withLock {
      while (current.isEmpty || held) && !flushThread.isStopping {
        condition.wait()
      }
      if current.isEmpty {
        flushThread = .stopped
        condition.broadcast()
        return nil
      }
      let ready = current
      current = []
      return ready
    }
  }

  private func finish(_ batch: [(termIndex: TermIndex, part: OMBatchPart)]) {
    let last = batch[batch.count - 1].termIndex
    let changes = batch.reduce(0) { $0 + $1.part.changeCount }
    let due: [@Sendable () -> Void] = condition.withLock {
      unflushedCount -= batch.count
      unflushedChanges -= changes
      flushed = last
      flushCount += 1
      let due = waiters.filter { $0.index <= last.index }.map(\.callback)
      waiters.removeAll { $0.index <= last.index }
      condition.broadcast()
      return due
    }
    for callback in due { callback() }
    onFlushed(last)
  }
}
