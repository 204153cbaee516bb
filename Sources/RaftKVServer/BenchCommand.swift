import ArgumentParser
import Foundation
import NIOPosix
import RaftCore
import RaftKV

/// `bench`: three replicas in separate processes on loopback; for each number of concurrent
/// proposers, puts of `--payload-bytes` for `--seconds`, then throughput, latency percentiles
/// and log fsyncs per second against proposals per second (group commit keeps that ratio low).
struct BenchCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(commandName: "bench", abstract: "Measure the Raft stack.")

  @Option(help: "Concurrent proposers, comma-separated.") var proposers = "1,16,64"
  @Option(help: "Seconds per proposer count.") var seconds = 10.0
  @Option(help: "Bytes per proposal's value.") var payloadBytes = 100

  func run() async throws {
    let executable = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
    let replicas = ReplicaProcesses(executable: executable, count: 3)
    try await replicas.startAll()
    defer { replicas.stopAll() }
    let client = KeyValueClient(servers: replicas.clientAddresses, group: MultiThreadedEventLoopGroup.singleton)
    guard case .ok = await client.put("warm-up", "x", retryForSeconds: 60) else {
      throw ValidationError("no leader was elected within a minute")
    }
    let value = String(repeating: "v", count: payloadBytes)
    announce("proposers  proposals/s   p50 ms   p99 ms   fsyncs/s (leader)   proposals per fsync")
    for count in proposers.split(separator: ",").compactMap({ Int($0) }) {
      let before = try await syncs(client, replicas.ids)
      let started = ContinuousClock.now
      let latencies = await run(count, client: client, value: value)
      let elapsed = (ContinuousClock.now - started).seconds
      let after = try await syncs(client, replicas.ids)
      let leaderSyncs = replicas.ids.map { (after[$0] ?? 0) - (before[$0] ?? 0) }.max() ?? 0
      let sorted = latencies.sorted()
      func percentile(_ fraction: Double) -> Double { sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))] * 1000 }
      announce(String(
        format: "%9d  %11.0f  %7.2f  %7.2f  %18.0f  %20.1f", count, Double(sorted.count) / elapsed, percentile(0.5),
        percentile(0.99), Double(leaderSyncs) / elapsed, Double(sorted.count) / Double(max(leaderSyncs, 1))))
    }
    await client.close()
  }

  /// `count` proposers putting for `seconds`; returns every put's latency in seconds.
  private func run(_ count: Int, client: KeyValueClient, value: String) async -> [Double] {
    let end = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    return await withTaskGroup(of: [Double].self) { group in
      for proposer in 0..<count {
        group.addTask {
          var latencies: [Double] = []
          var operation = 0
          while ContinuousClock.now < end {
            let began = ContinuousClock.now
            if case .ok = await client.put("p\(proposer)-\(operation % 64)", value) {
              latencies.append((ContinuousClock.now - began).seconds)
            }
            operation += 1
          }
          return latencies
        }
      }
      return await group.reduce(into: []) { $0 += $1 }
    }
  }

  /// Each replica's count of fsync calls on its log (entries, directory and hard-state file).
  private func syncs(_ client: KeyValueClient, _ ids: [PeerID]) async throws -> [PeerID: Int] {
    var result: [PeerID: Int] = [:]
    for id in ids {
      let status = try await client.status(of: id)
      if let match = status.firstMatch(of: /\bfsyncs=(\d+)/) { result[id] = Int(match.1) }
    }
    return result
  }
}

extension Duration {
  var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
