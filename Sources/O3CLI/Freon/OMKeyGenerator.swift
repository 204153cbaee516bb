import ArgumentParser
import Foundation
import OMProto
import OzoneClient
import Synchronization

/// `o3 freon omkg`: creates keys (create + commit, metadata only) and reports the rate, as
/// Ozone's OmKeyGenerator does. Creates the volume and bucket when they are missing.
struct OMKeyGenerator: AsyncParsableCommand {
  static let configuration = CommandConfiguration(commandName: "omkg", abstract: "Create keys in the OM as fast as it takes them.")

  @OptionGroup var shell: ShellOptions
  @Option(name: [.customShort("n"), .customLong("number-of-tests")], help: "Keys to create.") var count = 1000
  @Option(name: [.customShort("t"), .customLong("thread")], help: "Keys in flight at once.") var threads = 10
  @Option(name: [.short, .long], help: "Volume.") var volume = "vol1"
  @Option(name: [.short, .long], help: "Bucket.") var bucket = "bucket1"
  @Option(name: [.short, .long], help: "Key name prefix (default: random).") var prefix = String(UInt32.random(in: 0...UInt32.max), radix: 36)
  @Option(name: .long, help: "The OM, host:port (default: ozone.om.address or localhost:9862).") var om: String?

  func validate() throws {
    guard count > 0, threads > 0 else { throw ValidationError("--number-of-tests and --thread must be positive") }
  }

  func run() async throws {
    let path = try OzonePath.parse(om.map { "o3://\($0)/" } ?? "/")
    let report = try await shell.withClient(path) { client in
      try await ensureBucket(client)
      let next = SharedCounter()
      let (count, volume, bucket, prefix) = (count, volume, bucket, prefix)
      let start = ContinuousClock.now
      let latencies = try await withThrowingTaskGroup(of: [Duration].self) { group in
        for _ in 0..<min(threads, count) {
          group.addTask {
            var mine: [Duration] = []
            while true {
              let index = next.takeNext()
              guard index < count else { return mine }
              let began = ContinuousClock.now
              try await client.putKey(volume, bucket, "\(prefix)/\(index)")
              mine.append(ContinuousClock.now - began)
            }
          }
        }
        return try await group.reduce(into: [Duration]()) { $0 += $1 }
      }
      return FreonReport(name: "omkg", latencies: latencies, elapsed: ContinuousClock.now - start)
    }
    print(report.render())
  }

  private func ensureBucket(_ client: OzoneClient) async throws {
    do {
      try await client.createVolume(volume)
    } catch let error as OzoneClientError where error.status == .volumeAlreadyExists {}
    var info = BucketInfo()
    info.volumeName = volume
    info.bucketName = bucket
    info.quotaInBytes = -1
    info.quotaInNamespace = -1
    do {
      try await client.createBucket(info)
    } catch let error as OzoneClientError where error.status == .bucketAlreadyExists {}
  }
}

/// The summary freon prints: count, rate and latency percentiles.
struct FreonReport {
  var name: String
  var latencies: [Duration]
  var elapsed: Duration

  func render() -> String {
    let sorted = latencies.sorted()
    func percentile(_ fraction: Double) -> String {
      guard !sorted.isEmpty else { return "-" }
      let index = min(sorted.count - 1, Int(Double(sorted.count) * fraction))
      return String(format: "%.3f ms", microseconds(sorted[index]) / 1000)
    }
    let seconds = microseconds(elapsed) / 1_000_000
    return """
      \(name): \(sorted.count) operations in \(String(format: "%.3f", seconds)) s = \(String(format: "%.0f", Double(sorted.count) / seconds)) ops/s
      latency (each = create + commit): p50 \(percentile(0.50)), p90 \(percentile(0.90)), p99 \(percentile(0.99)), max \(percentile(1.0))
      """
  }

  private func microseconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) * 1_000_000 + Double(duration.components.attoseconds) / 1e12
  }
}

/// A counter tasks share to hand out work items.
final class SharedCounter: Sendable {
  private let value = Atomic<Int>(0)

  func takeNext() -> Int {
    value.add(1, ordering: .relaxed).oldValue
  }
}
