import Foundation

/// A nemesis run's parameters, from the environment (see FaultTests.swift for the variables).
struct FaultRunOptions: Sendable {
  /// Nemesis events per cluster size in the short form (the normal test run).
  static let shortEvents = [3: 20, 5: 20]

  /// Settings per cluster size before O3_FAULT_SET's. The 5-OM cluster snapshots every 20
  /// entries, keeps 10 behind, and rolls 4 KB segments, so that an OM down for a second or two
  /// falls behind the leader's purged log and catches up by checkpoint (through its HTTP
  /// proxies, under the same faults); the 3-OM cluster keeps Ozone's defaults.
  static let sizeSettings = [
    5: [
      "ozone.om.ratis.segment.size=4KB", "ozone.om.ratis.log.purge.gap=10",
      "ozone.om.ratis.snapshot.auto.trigger.threshold=20",
    ]
  ]

  var seed: UInt64
  /// Whether the seed came from O3_FAULT_SEED (a replay) rather than being drawn.
  var seedGiven: Bool
  var events: Int?
  var nodeCounts: Set<Int>
  var kinds: [NemesisKind]
  var clients: Int
  var keepFiles: Bool
  /// `key=value` settings for every OM, after the cluster's own.
  var settings: [String]

  static let current = FaultRunOptions(environment: ProcessInfo.processInfo.environment)

  init(environment: [String: String]) {
    let givenSeed = environment["O3_FAULT_SEED"].flatMap { UInt64($0) }
    seed = givenSeed ?? UInt64.random(in: 1...UInt64(UInt32.max))
    seedGiven = givenSeed != nil
    events = environment["O3_FAULT_EVENTS"].flatMap { Int($0) }.map { max($0, 0) }
    let sizes = (environment["O3_FAULT_NODES"] ?? "3,5").split(separator: ",").compactMap { Int($0) }
    nodeCounts = Set(sizes.filter { $0 == 3 || $0 == 5 })
    let named = (environment["O3_FAULT_KINDS"] ?? "").split(separator: ",").compactMap {
      NemesisKind(rawValue: $0.trimmingCharacters(in: .whitespaces))
    }
    kinds = named.isEmpty ? NemesisKind.allCases : named
    clients = environment["O3_FAULT_CLIENTS"].flatMap { Int($0) }.map { min(max($0, 1), 32) } ?? 5
    keepFiles = environment["O3_FAULT_KEEP"] == "1"
    settings = (environment["O3_FAULT_SET"] ?? "").split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
      .filter { !$0.isEmpty }
  }

  func eventCount(nodeCount: Int) -> Int { events ?? Self.shortEvents[nodeCount] ?? 16 }

  func settings(nodeCount: Int) -> [String] { (Self.sizeSettings[nodeCount] ?? []) + settings }

  /// The command that runs this configuration again (same schedule and workload choices; the
  /// processes' own timing is not replayed).
  func replayCommand(nodeCount: Int) -> String {
    var variables = [
      "O3_FAULT_SEED=\(seed)", "O3_FAULT_EVENTS=\(eventCount(nodeCount: nodeCount))", "O3_FAULT_NODES=\(nodeCount)",
      "O3_FAULT_CLIENTS=\(clients)",
    ]
    if kinds != NemesisKind.allCases { variables.append("O3_FAULT_KINDS=\(kinds.map(\.rawValue).joined(separator: ","))") }
    if !settings.isEmpty { variables.append("O3_FAULT_SET='\(settings.joined(separator: ";"))'") }
    return variables.joined(separator: " ") + " swift test --filter FaultTests.NemesisTests"
  }
}

/// Progress lines of fault runs, written unbuffered so that a long run's log shows where it is
/// (and keeps what it printed if the runner dies).
enum FaultLog {
  static func line(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
  }
}
