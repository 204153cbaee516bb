import Histogram
import Synchronization

/// What the tasks of one freon run share: the next index to hand out, the tallies, the latencies.
///
/// Counters are atomics so the progress line can read them while tasks run; the histogram and
/// the failure samples sit behind mutexes held for a few instructions per operation, which is
/// nothing beside the RPC each operation makes.
final class FreonRunState: Sendable {
  /// Failures kept with their messages for the report; the rest are only counted.
  static let failureSamplesMaximum = 5

  /// Latencies are recorded in microseconds up to an hour; a slower call is recorded as an hour
  /// (calls time out long before that).
  static let latencyMicrosecondsMaximum: UInt64 = 3_600_000_000

  private let plan: FreonPlan
  private let attempts = Atomic<Int>(0)
  private let succeededCount = Atomic<Int>(0)
  private let failedCount = Atomic<Int>(0)
  private let stopped = Atomic<Bool>(false)
  private let interruptedFlag = Atomic<Bool>(false)
  private let latencies = Mutex(
    Histogram<UInt64>(
      highestTrackableValue: FreonRunState.latencyMicrosecondsMaximum, numberOfSignificantValueDigits: .three))
  private let failureSamples = Mutex<[String]>([])

  init(plan: FreonPlan) {
    self.plan = plan
  }

  /// The index of the next operation, or nil when the run is over. A timed run wraps indexes
  /// around `plan.count`, as Ozone's freon does, so it revisits the same names.
  func takeNextIndex() -> Int? {
    guard !stopped.load(ordering: .acquiring) else { return nil }
    let attempt = attempts.add(1, ordering: .relaxed).oldValue
    if plan.duration != nil { return attempt % plan.count }
    return attempt < plan.count ? attempt : nil
  }

  /// No task starts another operation; those in flight finish and are counted.
  func stop() {
    stopped.store(true, ordering: .releasing)
  }

  /// Stops because the user asked (Ctrl-C), which the report says.
  func interrupt() {
    interruptedFlag.store(true, ordering: .relaxed)
    stop()
  }

  func recordSuccess(latency: Duration) {
    let microseconds = min(Self.microseconds(latency), Self.latencyMicrosecondsMaximum)
    latencies.withLock { _ = $0.record(microseconds) }
    succeededCount.add(1, ordering: .relaxed)
  }

  func recordFailure(_ description: String) {
    let earlier = failedCount.add(1, ordering: .relaxed).oldValue
    if earlier < Self.failureSamplesMaximum {
      failureSamples.withLock { samples in
        if samples.count < Self.failureSamplesMaximum { samples.append(description) }
      }
    }
    if plan.stopAtFirstFailure { stop() }
  }

  /// The tallies so far, for the progress line.
  var snapshot: (succeeded: Int, failed: Int) {
    (succeededCount.load(ordering: .relaxed), failedCount.load(ordering: .relaxed))
  }

  /// The run's result; call once every task has finished.
  func outcome(elapsed: Duration) -> FreonOutcome {
    FreonOutcome(
      succeeded: succeededCount.load(ordering: .acquiring), failed: failedCount.load(ordering: .acquiring),
      elapsed: elapsed, latencyMicroseconds: latencies.withLock { $0 },
      failureSamples: failureSamples.withLock { $0 }, interrupted: interruptedFlag.load(ordering: .relaxed))
  }

  static func microseconds(_ duration: Duration) -> UInt64 {
    let (seconds, attoseconds) = duration.components
    guard seconds >= 0, attoseconds >= 0 else { return 0 }
    let (whole, overflow) = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000)
    return overflow ? .max : whole + UInt64(attoseconds / 1_000_000_000_000)
  }
}
