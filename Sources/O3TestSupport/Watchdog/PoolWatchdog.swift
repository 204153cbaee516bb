import Foundation
import O3Threads
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// Watches Swift's cooperative pool from a thread of its own and names a stall while it lasts.
///
/// Every second the watchdog thread hands the pool a probe (a tiny detached task). When a probe
/// has not run for `stallSeconds` (20 s; `O3_WATCHDOG_SECONDS` overrides), every thread of the
/// pool is held by something that does not return — a blocking wait, a lock, a busy loop — and
/// every test that awaits anything is frozen. The watchdog then prints, once per stall, which
/// tests are running, every thread's kernel state, and the backtraces of the threads that are
/// running a Swift job (from gdb when it is installed; the whole dump goes to a file). A later
/// line says when the pool moved again. Started by the `.watchdog` trait; it never stops (it
/// is one sleeping thread per test process).
public final class PoolWatchdog: Sendable {
  public static let shared = PoolWatchdog()

  private let started = Atomic<Bool>(false)
  /// The last probe that ran on the pool.
  private let completedProbe = Atomic<UInt64>(0)
  private let endedStalls = Atomic<Int>(0)
  public let stallSeconds: Double

  private init() {
    let configured = ProcessInfo.processInfo.environment["O3_WATCHDOG_SECONDS"].flatMap(Double.init)
    stallSeconds = configured ?? 20
  }

  /// How many reported stalls have ended so far.
  public var stallsEnded: Int { endedStalls.load(ordering: .relaxed) }

  /// Starts the watching thread once per process; later calls do nothing.
  public func start() {
    guard started.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged else { return }
    let thread = Thread { [self] in watch() }
    thread.stackSize = 1 << 20
    thread.start()
  }

  private func watch() {
    nameCurrentThread("o3-watchdog")
    let clock = ContinuousClock()
    var issued: UInt64 = 0
    var issuedAt = clock.now
    var reported: UInt64 = 0
    while true {
      Thread.sleep(forTimeInterval: 1)
      let completed = completedProbe.load(ordering: .acquiring)
      if completed == issued {
        if reported == issued && reported != 0 {
          let waited = (clock.now - issuedAt).seconds
          Self.emit("=== O3 watchdog: the cooperative pool moved again after \(String(format: "%.1f", waited)) s\n")
          reported = 0
          endedStalls.add(1, ordering: .relaxed)
        }
        issued += 1
        issuedAt = clock.now
        let probe = issued
        Task.detached { [self] in
          completedProbe.store(probe, ordering: .releasing)
        }
      } else if reported != issued && (clock.now - issuedAt).seconds >= stallSeconds {
        reported = issued
        report(stalledSeconds: (clock.now - issuedAt).seconds)
      }
    }
  }

  private func report(stalledSeconds: Double) {
    var text = "\n=== O3 watchdog: Swift's cooperative pool has run nothing for "
    text += "\(String(format: "%.0f", stalledSeconds)) s (pid \(getpid())) ===\n"
    let running = RunningTests.shared.snapshot()
    text += "running tests (\(running.count)):\n"
    for test in running {
      text += "  \(test.name)  (for \(String(format: "%.1f", test.runningSeconds)) s)\n"
    }
    let threads = ThreadDump.kernelStates()
    text += "threads (\(threads.count)): tid, name, state, kernel wait channel, system call\n"
    for thread in threads { text += "  \(thread)\n" }
    Self.emit(text)
    Self.emit(ThreadDump.poolBacktraces())
    Self.emit("=== end of O3 watchdog report ===\n")
  }

  /// Writes straight to standard error: no buffering, no pool, no locks of Foundation's.
  static func emit(_ text: String) {
    var bytes = Array(text.utf8)
    var written = 0
    while written < bytes.count {
      let count = bytes.withUnsafeMutableBytes { Glibc.write(2, $0.baseAddress! + written, $0.count - written) }
      guard count > 0 else { return }
      written += count
    }
  }
}

extension Duration {
  /// This duration in seconds, as a Double.
  var seconds: Double {
    let (seconds, attoseconds) = components
    return Double(seconds) + Double(attoseconds) / 1e18
  }
}
