#if os(Linux)
  import Glibc
#endif
import Synchronization

/// Names the seeds being simulated when the process dies of a failed precondition (inside
/// RaftCore or the simulator), so that a crash in CI still prints the command that replays it.
///
/// A simulation registers its seed and thread in a slot for the length of its run; a handler
/// for the signals a trap raises names the seed of the trapping thread (and any others running
/// in parallel) on standard error, then restores the handler it displaced (the Swift runtime's
/// backtracer) and returns, so the trapping instruction runs again and the backtrace follows.
enum SimulationCrashReporter {
  /// Seeds that can be simulated at once (parallel tests) and still be named.
  static let slotCount = 32
  private static let free: UInt8 = 0
  private static let claimed: UInt8 = 1
  private static let published: UInt8 = 2

  // Allocated once and never freed; written only through atomics, so sharing is safe.
  nonisolated(unsafe) private static let states: UnsafeMutablePointer<Atomic<UInt8>> = {
    let pointer = UnsafeMutablePointer<Atomic<UInt8>>.allocate(capacity: slotCount)
    for slot in 0..<slotCount { (pointer + slot).initialize(to: Atomic(free)) }
    return pointer
  }()
  // As above: each seed is written before its state becomes `published` and read only after.
  nonisolated(unsafe) private static let seeds: UnsafeMutablePointer<Atomic<UInt64>> = {
    let pointer = UnsafeMutablePointer<Atomic<UInt64>>.allocate(capacity: slotCount)
    for slot in 0..<slotCount { (pointer + slot).initialize(to: Atomic(0)) }
    return pointer
  }()
  // As above, for the thread that runs the seed of the same slot.
  nonisolated(unsafe) private static let threads: UnsafeMutablePointer<Atomic<UInt64>> = {
    let pointer = UnsafeMutablePointer<Atomic<UInt64>>.allocate(capacity: slotCount)
    for slot in 0..<slotCount { (pointer + slot).initialize(to: Atomic(0)) }
    return pointer
  }()
  private static let installation: Void = installHandlers()

  /// Registers `seed` for the length of `body`.
  static func running<Result>(seed: UInt64, _ body: () -> Result) -> Result {
    _ = installation
    let slot = claimSlot()
    if let slot {
      seeds[slot].store(seed, ordering: .relaxed)
      threads[slot].store(currentThread(), ordering: .relaxed)
      states[slot].store(published, ordering: .releasing)
    }
    defer {
      if let slot { states[slot].store(free, ordering: .releasing) }
    }
    return body()
  }

  private static func claimSlot() -> Int? {
    for slot in 0..<slotCount {
      let (exchanged, _) = states[slot].compareExchange(
        expected: free, desired: claimed, ordering: .acquiringAndReleasing)
      if exchanged { return slot }
    }
    return nil
  }

  #if os(Linux)
    private static let trapSignals: [Int32] = [SIGILL, SIGTRAP, SIGABRT, SIGSEGV, SIGBUS, SIGFPE]
    // One saved action per signal number, written once at installation before any handler runs.
    nonisolated(unsafe) private static let displaced = UnsafeMutablePointer<sigaction>.allocate(
      capacity: 65)

    private static func installHandlers() {
      for signal in trapSignals {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { signal in
          SimulationCrashReporter.reportSeeds()
          sigaction(signal, SimulationCrashReporter.displaced + Int(signal), nil)
        }
        sigemptyset(&action.sa_mask)
        sigaction(signal, &action, displaced + Int(signal))
      }
    }

    private static func currentThread() -> UInt64 {
      UInt64(pthread_self())
    }

    /// Writes the registered seeds with `write(2)` only: a crashing process may hold any lock.
    private static func reportSeeds() {
      let crashing = currentThread()
      for slot in 0..<slotCount where states[slot].load(ordering: .acquiring) == published {
        let seed = seeds[slot].load(ordering: .relaxed)
        if threads[slot].load(ordering: .relaxed) == crashing {
          writeToStandardError("\nRaftSimulation: crashed while simulating seed ")
        } else {
          writeToStandardError("\nRaftSimulation: also running when another seed crashed: seed ")
        }
        writeNumber(seed)
        writeToStandardError("; replay: O3_SIM_SEED=")
        writeNumber(seed)
        writeToStandardError(" swift test --filter RaftSimulationTests\n")
      }
    }

    private static func writeToStandardError(_ text: StaticString) {
      _ = write(2, text.utf8Start, text.utf8CodeUnitCount)
    }

    private static func writeNumber(_ number: UInt64) {
      withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
        var remaining = number
        var position = 20
        repeat {
          position -= 1
          digits[position] = UInt8(ascii: "0") + UInt8(remaining % 10)
          remaining /= 10
        } while remaining > 0
        _ = write(2, digits.baseAddress! + position, 20 - position)
      }
    }
  #else
    private static func installHandlers() {}

    private static func currentThread() -> UInt64 {
      0
    }
  #endif
}
