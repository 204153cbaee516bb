import Foundation
import RaftCore
import Synchronization
import Testing

@testable import Raft

/// Group commit: requests that queue while a batch is written share the next fsync.
@Suite("RaftLogWriter")
struct RaftLogWriterTests {
  @Test("requests queued while the writer is held are written as one batch with one sync")
  func oneBatch() throws {
    try withLogTestDirectory { directory in
      let log = try DurableRaftLog.open(directory: directory, segmentSizeBytes: 4096, logger: silentLogTestLogger)
      let writer = RaftLogWriter(log: log, logger: silentLogTestLogger)
      defer { writer.close() }
      writer.suspend()
      let submitter = OrderedSubmitter(writer: writer)
      let threads = 4
      let perThread = 250
      DispatchQueue.concurrentPerform(iterations: threads) { thread in
        for _ in 0..<perThread { submitter.submitNext(thread: thread) }
      }
      #expect(writer.statistics.requestsCompleted == 0, "held until resumed")
      writer.resume()
      submitter.waitForAll(threads * perThread)
      let statistics = writer.statistics
      #expect(statistics.requestsCompleted == UInt64(threads * perThread))
      #expect(statistics.batchesWritten == 1)
      #expect(statistics.largestBatchRequests == threads * perThread)
      #expect(log.statistics.syncs == 1)
      #expect(submitter.failures == 0)
      #expect(submitter.completionOrder == (1...UInt64(threads * perThread)).map { $0 }, "completed in submission order")
      #expect(log.durableLastIndex == UInt64(threads * perThread))
      #expect(log.hardState.commit == UInt64(threads * perThread), "the latest hard state")
      #expect(log.statistics.hardStateWrites == 1)
    }
  }

  @Test("1000 requests from several threads all complete, each sync covering at least one")
  func manyThreads() throws {
    try withLogTestDirectory { directory in
      let log = try DurableRaftLog.open(directory: directory, segmentSizeBytes: 64 << 10, logger: silentLogTestLogger)
      let writer = RaftLogWriter(log: log, queuedRequestsMax: 64, logger: silentLogTestLogger)
      defer { writer.close() }
      let submitter = OrderedSubmitter(writer: writer)
      DispatchQueue.concurrentPerform(iterations: 4) { thread in
        for _ in 0..<250 { submitter.submitNext(thread: thread) }
      }
      submitter.waitForAll(1000)
      #expect(submitter.failures == 0)
      #expect(writer.statistics.requestsCompleted == 1000)
      #expect(writer.statistics.batchesWritten <= 1000)
      #expect(writer.statistics.batchesWritten == log.statistics.syncs, "one sync per batch")
      #expect(writer.statistics.largestBatchRequests <= 64, "batches never exceed the queue bound")
      #expect(try log.entries(in: 1..<1001, payloadBytesMax: .max) == logTestEntries(from: 1, count: 1000, dataBytes: 8))
    }
  }

  @Test("a failure is reported to every request of the batch and to every later one")
  func failureIsSticky() throws {
    try withLogTestDirectory { directory in
      let log = try DurableRaftLog.open(directory: directory, logger: silentLogTestLogger)
      let writer = RaftLogWriter(log: log, logger: silentLogTestLogger)
      defer { writer.close() }
      let results = Mutex<[RaftLogError.Code?]>([])
      let done = DispatchGroup()
      let record: @Sendable (Result<Void, Error>) -> Void = { result in
        results.withLock { results in
          switch result {
          case .success: results.append(nil)
          case .failure(let error): results.append((error as? RaftLogError)?.code)
          }
        }
        done.leave()
      }
      let huge = LogEntry(term: 1, index: 2, data: [UInt8](repeating: 1, count: DurableRaftLog.entryDataBytesMax + 1))
      writer.suspend()
      for entries in [logTestEntries(from: 1, count: 1), [huge], logTestEntries(from: 2, count: 1)] {
        done.enter()
        writer.submit(entries: entries, hardState: nil, completion: record)
      }
      writer.resume()
      done.wait()
      done.enter()
      writer.submit(entries: logTestEntries(from: 3, count: 1), hardState: nil, completion: record)
      done.wait()
      #expect(results.withLock { $0 } == Array(repeating: .entryTooLarge, count: 4))
    }
  }

  @Test("a request's snapshot is installed before its entries")
  func snapshotThenEntries() throws {
    try withLogTestDirectory { directory in
      let log = try DurableRaftLog.open(directory: directory, logger: silentLogTestLogger)
      let writer = RaftLogWriter(log: log, logger: silentLogTestLogger)
      defer { writer.close() }
      let metadata = SnapshotMetadata(last: TermIndex(term: 2, index: 100), membership: Membership(voters: [1]))
      let done = DispatchGroup()
      let failed = Mutex(false)
      done.enter()
      writer.submit(
        snapshot: metadata, entries: logTestEntries(from: 101, count: 2, term: 2),
        hardState: HardState(term: 2, vote: nil, commit: 100)
      ) { result in
        if case .failure = result { failed.withLock { $0 = true } }
        done.leave()
      }
      done.wait()
      #expect(!failed.withLock { $0 })
      #expect(log.snapshot == metadata)
      #expect(log.firstIndex == 101)
      #expect(log.durableLastIndex == 102)
    }
  }

  @Test("after close, the log is released and submissions fail with writerClosed")
  func close() throws {
    try withLogTestDirectory { directory in
      let writer = RaftLogWriter(
        log: try DurableRaftLog.open(directory: directory, logger: silentLogTestLogger), logger: silentLogTestLogger)
      writer.close()
      let code = Mutex<RaftLogError.Code?>(nil)
      writer.submit(entries: logTestEntries(from: 1, count: 1), hardState: nil) { result in
        if case .failure(let error) = result { code.withLock { $0 = (error as? RaftLogError)?.code } }
      }
      #expect(code.withLock { $0 } == .writerClosed)
      #expect(logTestOpenError(directory) == nil, "the closed writer no longer holds the log open")
    }
  }
}

/// Submits requests of one entry each from any thread, numbering them in submission order
/// (the numbering and the submit happen under one lock, so queue order is index order), each
/// with a hard state committing its entry; records the order of completions.
private final class OrderedSubmitter: Sendable {
  private let writer: RaftLogWriter
  private let nextIndex = Mutex<UInt64>(1)
  private let completed = Mutex<(order: [UInt64], failures: Int)>(([], 0))
  private let done = DispatchGroup()

  init(writer: RaftLogWriter) { self.writer = writer }

  func submitNext(thread: Int) {
    nextIndex.withLock { next in
      let index = next
      next += 1
      done.enter()
      writer.submit(
        entries: logTestEntries(from: index, count: 1, dataBytes: 8),
        hardState: HardState(term: 1, vote: nil, commit: index)
      ) { result in
        self.recordCompletion(of: index, result)
      }
    }
  }

  private func recordCompletion(of index: UInt64, _ result: Result<Void, Error>) {
    completed.withLock { completed in
      completed.order.append(index)
      if case .failure = result { completed.failures += 1 }
    }
    done.leave()
  }

  /// Waits until `count` submitted requests have completed.
  func waitForAll(_ count: Int) {
    done.wait()
    #expect(completed.withLock { $0.order.count } == count)
  }

  var completionOrder: [UInt64] { completed.withLock { $0.order } }
  var failures: Int { completed.withLock { $0.failures } }
}
