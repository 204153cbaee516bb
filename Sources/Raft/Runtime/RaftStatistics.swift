import Synchronization

/// Counters a benchmark or an admin tool reads: how much the log wrote and how often it synced.
public struct RaftStatistics: Sendable, Hashable {
  /// Log syncs (fsync) performed.
  public var syncs: UInt64 = 0
  /// Entries made durable by those syncs.
  public var entriesSynced: UInt64 = 0
  /// Attempts to persist a Ready that failed because the log's disk was full (each retried).
  public var persistAttemptsFailed: UInt64 = 0
}

/// The runtime's counters behind a lock.
package final class RaftStatisticsBox: Sendable {
  private let value = Mutex(RaftStatistics())

  package init() {}

  func recordSync(entries: Int) {
    value.withLock {
      $0.syncs += 1
      $0.entriesSynced += UInt64(entries)
    }
  }

  func recordPersistFailure() {
    value.withLock { $0.persistAttemptsFailed += 1 }
  }

  var snapshot: RaftStatistics { value.withLock { $0 } }
}
