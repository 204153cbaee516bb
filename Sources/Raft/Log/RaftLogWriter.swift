import Foundation
import Logging
import RaftCore

/// The log's group commit: a dedicated thread that persists requests in batches, one
/// ``DurableRaftLog/sync()`` per batch.
///
/// Every request queued while the previous batch was being written and fsync'd joins the next
/// batch: the thread installs each request's snapshot metadata, appends each request's entries
/// in order, records the latest hard state, syncs once (entries first, then the hard state) and
/// completes the requests in the order they were submitted. Under load the number of fsyncs is
/// the number of batches, far below the number of proposals. A completion with `.success`
/// means everything in the request is durable: only then may a follower acknowledge it, or a
/// leader count itself toward the quorum of those entries.
///
/// A failure is reported to every request of the batch and to every later request: the log's
/// state after a failed write is unknown, and the runtime must stop.
public final class RaftLogWriter: Sendable {
  /// The default bound on queued requests; ``submit(snapshot:entries:hardState:completion:)``
  /// blocks while the queue is full.
  public static let queuedRequestsMaxDefault = 1024

  private let core: WriterCore

  public init(
    log: DurableRaftLog, queuedRequestsMax: Int = RaftLogWriter.queuedRequestsMaxDefault,
    logger: Logger
  ) {
    precondition(queuedRequestsMax > 0, "the writer queue needs room for one request")
    core = WriterCore(log: log, queuedRequestsMax: queuedRequestsMax, logger: logger)
    let thread = Thread { [core] in core.run() }
    thread.name = "raft-log-writer"
    thread.start()
  }

  deinit {
    core.close()
  }

  /// Queues a request; `completion` runs on the writer thread once it is durable or failed.
  /// Blocks while `queuedRequestsMax` requests are waiting (back-pressure on the Raft loop).
  /// After ``close()`` the completion runs at once, on the caller's thread, with
  /// ``RaftLogError/Code/writerClosed``.
  public func submit(
    snapshot: SnapshotMetadata? = nil, entries: [LogEntry], hardState: HardState?,
    completion: @escaping @Sendable (Result<Void, Error>) -> Void
  ) {
    core.enqueue(
      WriteRequest(snapshot: snapshot, entries: entries, hardState: hardState, completion: completion))
  }

  /// Lets the current batch finish and holds the next one until ``resume()``; requests keep
  /// queueing (up to the bound). For a snapshot install that must not race with appends, and
  /// for tests that need a deterministic batch.
  public func suspend() { core.setSuspended(true) }

  public func resume() { core.setSuspended(false) }

  /// Writes what is queued, then stops the thread and releases the log; returns when it has
  /// stopped. Must not be called from a completion (it would wait for itself).
  public func close() { core.close() }

  public var statistics: RaftLogWriterStatistics { core.currentStatistics() }
}

/// Counters of a ``RaftLogWriter``: with ``requestsCompleted`` far above ``batchesWritten``,
/// group commit works.
public struct RaftLogWriterStatistics: Hashable, Sendable {
  public var requestsCompleted: UInt64 = 0
  /// Batches written, each with exactly one ``DurableRaftLog/sync()``.
  public var batchesWritten: UInt64 = 0
  public var entriesWritten: UInt64 = 0
  public var largestBatchRequests: Int = 0

  public init() {}
}

struct WriteRequest: Sendable {
  var snapshot: SnapshotMetadata?
  var entries: [LogEntry]
  var hardState: HardState?
  var completion: @Sendable (Result<Void, Error>) -> Void
}

/// The queue and the thread's loop.
///
/// `@unchecked Sendable`: every mutable field but `failure` is read and written only with
/// `condition` locked (the loop releases it around the disk writes and the completions);
/// `failure` and `log` are touched by the writer thread alone.
final class WriterCore: @unchecked Sendable {
  /// Released when the thread stops, so that a closed writer keeps no log open.
  private var log: DurableRaftLog?
  private let queuedRequestsMax: Int
  private let logger: Logger
  private let condition = NSCondition()
  private var queue: [WriteRequest] = []
  private var suspended = false
  private var closing = false
  private var stopped = false
  private var failure: RaftLogError?
  private var statistics = RaftLogWriterStatistics()

  init(log: DurableRaftLog, queuedRequestsMax: Int, logger: Logger) {
    self.log = log
    self.queuedRequestsMax = queuedRequestsMax
    self.logger = logger
  }

  func enqueue(_ request: WriteRequest) {
    condition.lock()
    while queue.count >= queuedRequestsMax && !closing { condition.wait() }
    guard !closing else {
      condition.unlock()
      request.completion(.failure(RaftLogError(.writerClosed, "the log writer is closed")))
      return
    }
    queue.append(request)
    condition.broadcast()
    condition.unlock()
  }

  func setSuspended(_ value: Bool) {
    condition.lock()
    suspended = value
    condition.broadcast()
    condition.unlock()
  }

  func close() {
    condition.lock()
    closing = true
    suspended = false
    condition.broadcast()
    while !stopped { condition.wait() }
    condition.unlock()
  }

  func currentStatistics() -> RaftLogWriterStatistics {
    condition.lock()
    defer { condition.unlock() }
    return statistics
  }

  func run() {
    while let batch = nextBatch() {
      let result = write(batch)
      condition.lock()
      statistics.requestsCompleted += UInt64(batch.count)
      statistics.batchesWritten += 1
      statistics.entriesWritten += UInt64(batch.reduce(0) { $0 + $1.entries.count })
      statistics.largestBatchRequests = max(statistics.largestBatchRequests, batch.count)
      condition.unlock()
      for request in batch { request.completion(result) }
    }
    log = nil
    condition.lock()
    stopped = true
    condition.broadcast()
    condition.unlock()
  }

  /// Waits for requests and takes all of them; nil once closing and drained.
  private func nextBatch() -> [WriteRequest]? {
    condition.lock()
    defer { condition.unlock() }
    while (queue.isEmpty || suspended) && !closing { condition.wait() }
    guard !queue.isEmpty else { return nil }
    let batch = queue
    queue.removeAll(keepingCapacity: true)
    condition.broadcast()
    return batch
  }

  private func write(_ batch: [WriteRequest]) -> Result<Void, Error> {
    if let failure { return .failure(failure) }
    guard let log else { preconditionFailure("the writer thread runs without a log") }
    do throws(RaftLogError) {
      var latestHardState: HardState?
      for request in batch {
        if let snapshot = request.snapshot { try log.installSnapshot(snapshot) }
        try log.append(request.entries)
        if let hardState = request.hardState { latestHardState = hardState }
      }
      if let latestHardState { log.setHardState(latestHardState) }
      try log.sync()
      return .success(())
    } catch {
      logger.critical("the Raft log cannot be written; every later write fails", metadata: ["error": "\(error)"])
      failure = error
      return .failure(error)
    }
  }
}
