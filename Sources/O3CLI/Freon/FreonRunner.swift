import Histogram

/// How many operations a freon run makes, from how many tasks, and when it stops.
struct FreonPlan: Sendable {
  /// Operations to run; in a timed run, the range the operation indexes wrap around in.
  var count: Int
  /// Operations in flight at once.
  var threads: Int
  /// Run until this much time has passed rather than for `count` operations.
  var duration: Duration?
  /// Ozone's default: after a failure no new operation starts (`--fail-at-end` turns this off).
  var stopAtFirstFailure: Bool
}

/// What a freon run measured.
struct FreonOutcome: Sendable {
  var succeeded: Int
  var failed: Int
  /// From the first operation's start to the last one's end.
  var elapsed: Duration
  /// Latencies of the successful operations.
  var latencyMicroseconds: Histogram<UInt64>
  /// The first few failures' messages (at most `FreonRunState.failureSamplesMaximum`).
  var failureSamples: [String]
  /// True when Ctrl-C ended the run early.
  var interrupted: Bool
}

/// A failed operation, naming the object it worked on, so the report can say which one.
struct FreonOperationFailure: Error, CustomStringConvertible {
  var subject: String
  var cause: any Error

  var description: String { "\(subject): \(cause)" }
}

/// Runs one operation `plan.count` times (or for `plan.duration`) from `plan.threads` concurrent
/// tasks, timing each with `clock`, and shows progress while it goes.
///
/// Like Ozone's BaseFreonGenerator: each task takes the next index from a shared counter, so the
/// tasks together run every index once, in roughly increasing order.
struct FreonRunner<RunClock: Clock>: Sendable where RunClock.Duration == Duration {
  var plan: FreonPlan
  var clock: RunClock
  /// Where progress goes while the run lasts; nil shows none.
  var progress: FreonProgress?
  /// Whether Ctrl-C ends the run early with a report (the command line) or kills the process.
  var catchesInterrupt = true

  func run(_ operation: @escaping @Sendable (_ index: Int) async throws -> Void) async -> FreonOutcome {
    let state = FreonRunState(plan: plan)
    let interruption = catchesInterrupt ? FreonInterruption(onFirstPress: { state.interrupt() }) : nil
    let start = clock.now
    let deadline = plan.duration.map { start.advanced(by: $0) }
    let progressTask = progress.map { progress in
      Task { await showProgress(progress, state: state, start: start) }
    }
    let workers = plan.duration == nil ? min(plan.threads, plan.count) : plan.threads
    await withTaskGroup(of: Void.self) { group in
      for _ in 0..<workers {
        group.addTask { await work(state: state, deadline: deadline, operation: operation) }
      }
    }
    let elapsed = start.duration(to: clock.now)
    progressTask?.cancel()
    await progressTask?.value
    interruption?.remove()
    return state.outcome(elapsed: elapsed)
  }

  private func work(
    state: FreonRunState, deadline: RunClock.Instant?, operation: @Sendable (Int) async throws -> Void
  ) async {
    while let index = state.takeNextIndex() {
      let began = clock.now
      if let deadline, began >= deadline {
        state.stop()
        return
      }
      do {
        try await operation(index)
        state.recordSuccess(latency: began.duration(to: clock.now))
      } catch {
        state.recordFailure("\(error)")
      }
    }
  }

  private func showProgress(_ progress: FreonProgress, state: FreonRunState, start: RunClock.Instant) async {
    var shown = false
    while true {
      do {
        try await clock.sleep(for: progress.interval)
      } catch {
        break
      }
      let (succeeded, failed) = state.snapshot
      progress.show(succeeded: succeeded, failed: failed, elapsed: start.duration(to: clock.now))
      shown = true
    }
    // A run shorter than one interval leaves no progress behind, only its report.
    if shown {
      let (succeeded, failed) = state.snapshot
      progress.finish(succeeded: succeeded, failed: failed, elapsed: start.duration(to: clock.now))
    }
  }
}
