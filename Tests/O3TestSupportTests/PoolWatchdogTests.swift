import Foundation
import O3TestSupport
import Testing

/// The watchdog names a stall of Swift's cooperative pool: a child copy of this test binary runs
/// only `holdEveryPoolThread` (disabled unless the environment says it is the child), with a
/// two-second threshold, and the parent reads the report from its standard error.
@Suite(.watchdog) struct PoolWatchdogTests {
  static let childVariable = "O3_WATCHDOG_TEST_CHILD"
  static let isChild = ProcessInfo.processInfo.environment[childVariable] != nil

  /// In the child only: every thread of the pool sleeps in a blocking call, twice over, so the
  /// pool runs nothing else for about eight seconds. (Blocking on purpose: this is the fault the
  /// watchdog exists to name.)
  @Test(.enabled(if: isChild)) func holdEveryPoolThread() async {
    let threads = ProcessInfo.processInfo.activeProcessorCount
    await withTaskGroup(of: Void.self) { group in
      for _ in 0..<(2 * threads) { group.addTask { usleep(4_000_000) } }
    }
    try? await waitUntil("the watchdog saw the pool move again", timeout: .seconds(120)) {
      PoolWatchdog.shared.stallsEnded > 0
    }
  }

  @Test(.enabled(if: !isChild)) func aStalledPoolNamesItselfTheRunningTestsAndTheBlockedThreads() async throws {
    let binary = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
    let child = try await ProcessRun.run(
      binary, ["--testing-library", "swift-testing", "--filter", "holdEveryPoolThread"],
      environment: [Self.childVariable: "1", "O3_WATCHDOG_SECONDS": "2"])
    let report = child.standardError
    #expect(child.exitCode == 0, "the child test passes once its threads return: \(child.standardOutput.suffix(2_000))")
    #expect(report.contains("Swift's cooperative pool has run nothing for"), "report: \(report.suffix(4_000))")
    #expect(report.contains("holdEveryPoolThread"), "the report names the running test")
    #expect(report.contains("nanosleep"), "the thread table shows the threads asleep in the kernel")
    #expect(report.contains("the cooperative pool moved again"), "and says when the stall ended")
  }
}

/// Every suite of the project carries `.watchdog`, so that any stall names its tests: a suite
/// without it (or a test outside any suite without it) would freeze unnamed.
@Suite(.watchdog) struct WatchdogCoverageTests {
  @Test func everySuiteAndFreeTestCarriesTheWatchdog() throws {
    let testsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    let files = try #require(FileManager.default.enumerator(atPath: testsDirectory.path)).compactMap { $0 as? String }
      .filter { $0.hasSuffix(".swift") }
    #expect(files.count > 50, "found the test sources")
    var unwatched: [String] = []
    for file in files {
      let text = try String(contentsOfFile: testsDirectory.appendingPathComponent(file).path, encoding: .utf8)
      for line in text.split(separator: "\n") {
        let code = line.trimmingCharacters(in: .whitespaces)
        let suite = code.hasPrefix("@Suite")
        let freeTest = line.hasPrefix("@Test")
        if (suite || freeTest) && !code.contains(".watchdog") { unwatched.append("\(file): \(code)") }
      }
      let hasTests = text.contains("@Test")
      if hasTests && !text.contains("@Suite") && !text.contains("@Test(.watchdog") {
        unwatched.append("\(file): tests outside any @Suite(.watchdog)")
      }
    }
    #expect(unwatched == [], "add .watchdog to: \(unwatched.joined(separator: "; "))")
  }
}

/// `.ownThreads` runs a suite's jobs on a few named threads of its own, never on the pool.
@Suite(.watchdog, .ownThreads) struct OwnThreadsTraitTests {
  @Test func jobsRunOnAFewNamedThreadsOffThePool() async throws {
    let threads = await withTaskGroup(of: (name: String, tid: String).self) { group in
      for _ in 0..<40 {
        group.addTask {
          usleep(2_000)  // on the trait's threads: keeps several jobs in flight at once
          let name = (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? ""
          let tid = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/thread-self")) ?? ""
          return (name.trimmingCharacters(in: .whitespacesAndNewlines), tid)
        }
      }
      return await group.reduce(into: []) { $0.append($1) }
    }
    #expect(threads.count == 40)
    #expect(Set(threads.map(\.name)) == ["o3-test-job"], "every job ran on the trait's threads: \(Set(threads.map(\.name)))")
    #expect(Set(threads.map(\.tid)).count <= 6, "at most six threads: \(Set(threads.map(\.tid)).count)")
  }
}
