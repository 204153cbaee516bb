import Foundation
import O3TestSupport
import Testing

/// Runs every script in testdata/ and compares each command's output with the expected output
/// written under it. `O3_REWRITE_SCENARIOS=1 swift test --filter Scenario` rewrites the expected
/// outputs instead; review the diff before committing it.
@Suite(.watchdog, .ownThreads) struct ScenarioTests {
  static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("testdata")

  static var scripts: [String] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
    return names.filter { $0.hasSuffix(".txt") && $0 != "README.txt" }.sorted()
  }

  @Test(arguments: scripts)
  func scenario(_ name: String) throws {
    let url = Self.directory.appendingPathComponent(name)
    let source = try String(contentsOf: url, encoding: .utf8)
    let script = try ScenarioScript(parsing: source)
    var interpreter = ScenarioInterpreter()
    var outputs: [[String]] = []
    for case .command(let line, let command, let expected) in script.items {
      let actual = try interpreter.run(command)
      outputs.append(actual)
      if ProcessInfo.processInfo.environment["O3_REWRITE_SCENARIOS"] == nil {
        #expect(
          actual == expected,
          "\(name):\(line) \(command)\n--- expected\n\(expected.joined(separator: "\n"))\n--- actual\n\(actual.joined(separator: "\n"))"
        )
      }
    }
    if ProcessInfo.processInfo.environment["O3_REWRITE_SCENARIOS"] != nil {
      try script.rendered(with: outputs).write(to: url, atomically: true, encoding: .utf8)
    }
  }

  @Test func everyRequiredScenarioExists() {
    let required = [
      "figure8.txt", "new_leader_overwrites_uncommitted.txt", "stale_leader_minority.txt",
      "reordered_duplicated_appends.txt", "remove_leader.txt", "promote_learner.txt",
      "remove_and_readd_same_term.txt", "slow_follower_snapshot_notice.txt",
      "transfer_leader.txt", "uncommitted_self_removal.txt",
    ]
    #expect(Set(required).isSubset(of: Set(Self.scripts)), "missing: \(Set(required).subtracting(Self.scripts))")
  }
}
