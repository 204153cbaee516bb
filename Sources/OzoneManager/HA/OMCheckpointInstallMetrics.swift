import OMMetadata
import Prometheus
import Synchronization

/// A follower's checkpoint installs as operators watch them: the one under way (for the status
/// page and `o3 admin om roles --json`) and the counters and gauges on `/prom`.
///
/// Every failure reason is registered from the start, at 0, so that an alert on a reason's rate
/// works before its first occurrence. The gauges are set as the install advances.
public final class OMCheckpointInstallMetrics: Sendable {
  /// Why an install failed: the `reason` label of `o3_om_checkpoint_install_failures_total`.
  public enum FailureReason: String, CaseIterable, Sendable {
    /// Not enough free space for the transfer, or the disk filled up while writing.
    case diskSpace = "disk_space"
    /// A file, the manifest or the tar stream did not verify.
    case checksum
    /// The connection could not be made, broke or went idle.
    case connection
    /// The OM asked is no longer the leader (503), or leadership moved during the transfer.
    case leaderChanged = "leader_changed"
    /// The leader refused this OM (403: wrong or missing token) or is busy (429).
    case refused
    /// The checkpoint is not newer than this OM's database, or ends before the leader's log.
    case stale
    /// Anything else: a write error, a leader-side failure (500), the new database not opening.
    case other

    /// The reason an error counts under.
    public static func of(_ error: Error) -> FailureReason {
      guard let checkpointError = error as? OMCheckpointError else { return .other }
      switch checkpointError.code {
      case .insufficientSpace: return .diskSpace
      case .verificationFailed, .malformedArchive, .malformedManifest: return .checksum
      case .connectionLost: return .connection
      case .notLeader, .leaderChanged: return .leaderChanged
      case .forbidden, .busy: return .refused
      case .notNewer: return .stale
      case .checkpointFailed, .unstableTermIndex, .fileChanged, .unexpectedResponse, .localWriteFailed, .keptFileUnusable:
        return .other
      }
    }
  }

  private struct State {
    var current: OMCheckpointInstallProgress?
    var successes: UInt64 = 0
    var failures: [FailureReason: UInt64] = [:]
    var lastDurationSeconds: Double = 0
    /// The figures of the current install, or of the last one once it ended.
    var expectedBytes: UInt64 = 0
    var receivedBytes: UInt64 = 0
    var keptBytes: UInt64 = 0
  }

  private let state = Mutex(State())
  /// Where the counters and gauges are registered: the OM's, or one of their own.
  public let registry: PrometheusCollectorRegistry
  private let installs: Counter
  private let failures: [FailureReason: Counter]
  private let inProgress: Gauge
  private let expectedBytes: Gauge
  private let receivedBytes: Gauge
  private let keptBytes: Gauge
  private let lastDuration: Gauge

  public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
    self.registry = registry
    inProgress = registry.makeGauge(
      name: "o3_om_checkpoint_install_in_progress", help: "1 while this OM downloads or installs a leader's checkpoint.")
    expectedBytes = registry.makeGauge(
      name: "o3_om_checkpoint_install_expected_bytes",
      help: "Bytes the current (else the last) checkpoint install fetches over the network.")
    receivedBytes = registry.makeGauge(
      name: "o3_om_checkpoint_install_received_bytes",
      help: "Bytes the current (else the last) checkpoint install has written so far.")
    keptBytes = registry.makeGauge(
      name: "o3_om_checkpoint_install_kept_bytes",
      help: "Bytes of SST files the current (else the last) checkpoint install hard-links from the old database.")
    installs = registry.makeCounter(
      name: "o3_om_checkpoint_installs_total", help: "Leader checkpoints installed since this OM started.")
    var failures: [FailureReason: Counter] = [:]
    for reason in FailureReason.allCases {
      failures[reason] = registry.makeCounter(
        name: "o3_om_checkpoint_install_failures_total", labels: [("reason", reason.rawValue)],
        help: "Checkpoint installs that failed (the old database kept serving), by reason.")
    }
    self.failures = failures
    lastDuration = registry.makeGauge(
      name: "o3_om_checkpoint_install_last_duration_seconds",
      help: "Time the last successful checkpoint install took, download included.")
  }

  /// The install under way, nil when none is.
  public var current: OMCheckpointInstallProgress? { state.withLock { $0.current } }
  /// Checkpoints installed since this OM started.
  public var successCount: UInt64 { state.withLock { $0.successes } }

  public func failureCount(_ reason: FailureReason) -> UInt64 { state.withLock { $0.failures[reason] ?? 0 } }

  func began(leaderId: String, nowMilliseconds: UInt64) {
    update { state in
      state.current = OMCheckpointInstallProgress(
        leaderId: leaderId, termIndex: nil, expectedBytes: 0, receivedBytes: 0, keptBytes: 0,
        startedAtMilliseconds: nowMilliseconds)
      state.expectedBytes = 0
      state.receivedBytes = 0
      state.keptBytes = 0
    }
  }

  func advanced(_ progress: CheckpointDownloader.Progress) {
    update { state in
      switch progress {
      case .started(let termIndex, let fetchBytes, let keptBytes, _):
        // A second download in the same install (everything refetched) starts the count again.
        state.expectedBytes = fetchBytes
        state.keptBytes = keptBytes
        state.receivedBytes = 0
        state.current?.termIndex = "\(termIndex)"
        state.current?.expectedBytes = fetchBytes
        state.current?.keptBytes = keptBytes
        state.current?.receivedBytes = 0
      case .received(let bytes):
        state.receivedBytes = bytes
        state.current?.receivedBytes = bytes
      }
    }
  }

  func succeeded(durationSeconds: Double) {
    installs.increment()
    update { state in
      state.current = nil
      state.successes += 1
      state.lastDurationSeconds = durationSeconds
    }
  }

  func failed(_ reason: FailureReason) {
    failures[reason]!.increment()
    update { state in
      state.current = nil
      state.failures[reason, default: 0] += 1
    }
  }

  /// Changes the state and sets the gauges from it, under the lock so that the gauges never
  /// show an older state than the last change.
  private func update(_ change: (inout State) -> Void) {
    state.withLock { state in
      change(&state)
      inProgress.set(state.current == nil ? 0.0 : 1.0)
      expectedBytes.set(Double(state.expectedBytes))
      receivedBytes.set(Double(state.receivedBytes))
      keptBytes.set(Double(state.keptBytes))
      lastDuration.set(state.lastDurationSeconds)
    }
  }
}
