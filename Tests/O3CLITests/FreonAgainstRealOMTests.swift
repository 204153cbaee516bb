import Foundation
import O3TestSupport
import Testing

/// Drives `o3 freon` generators against a real `o3 om` process and checks what they wrote and reported.
@Suite(.watchdog, .serialized) struct FreonAgainstRealOMTests {
  /// A fresh, initialised OM data directory, removed by the caller.
  private func initialisedDirectory() async throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("o3-freon-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    let result = try await O3Binary.run(["om", "--init", "--set", "ozone.metadata.dirs=\(path)"])
    #expect(result.exitCode == 0, "o3 om --init: \(result.standardError)")
    return path
  }

  private func report(_ result: ProcessRun) throws -> [String: Any] {
    try #require(result.json as? [String: Any], "not one JSON object: \(result.standardOutput)")
  }

  @Test func ombgCreatesOneBucketPerOperationAndReportsRateAndLatency() async throws {
    let directory = try await initialisedDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let om = try await OMProcess.start(metadataDirectory: directory)
    let target = "127.0.0.1:\(om.port)"

    let run = try await O3Binary.run(["freon", "ombg", "--om", target, "-v", "bgvol", "-n", "25", "-t", "4", "-p", "bench-", "--json"])
    #expect(run.exitCode == 0, "ombg: \(run.standardError)")
    let summary = try report(run)
    #expect(summary["generator"] as? String == "ombg")
    #expect(summary["operation"] as? String == "CreateBucket")
    #expect(summary["succeeded"] as? Int == 25)
    #expect(summary["failed"] as? Int == 0)
    #expect((summary["operationsPerSecond"] as? Double ?? 0) > 0)
    let latency = try #require(summary["latencyMicroseconds"] as? [String: Any])
    let p50 = try #require(latency["p50"] as? Int)
    let p99 = try #require(latency["p99"] as? Int)
    #expect(p50 > 0 && p50 <= p99)

    let listing = try await O3Binary.run(["sh", "bucket", "list", "o3://\(target)/bgvol", "--length", "1000"])
    #expect(listing.exitCode == 0, "bucket list: \(listing.standardError)")
    let buckets = try #require(listing.json as? [[String: Any]])
    let names = Set(buckets.compactMap { $0["name"] as? String })
    #expect(names == Set((0..<25).map { "bench-\($0)" }))

    // The same names again: every CreateBucket is refused, and the run stops at the first.
    let again = try await O3Binary.run(["freon", "ombg", "--om", target, "-v", "bgvol", "-n", "25", "-t", "1", "-p", "bench-", "--json"])
    #expect(again.exitCode == 255)
    #expect(again.standardError.contains("BUCKET_ALREADY_EXISTS"), "stderr: \(again.standardError)")
    #expect(try report(again)["succeeded"] as? Int == 0)
    #expect(await om.stop() == 0)
  }

  @Test func ombgRefusesPrefixesThatCannotNameBuckets() async throws {
    for prefix in ["Bench", "b_", "-bench", String(repeating: "a", count: 63), "a"] {
      let result = try await O3Binary.run(["freon", "ombg", "--om", "127.0.0.1:1", "-n", "10", "-p", prefix])
      #expect(result.exitCode == 2, "prefix '\(prefix)': \(result.standardError)")
      #expect(result.standardError.contains("--prefix"), "prefix '\(prefix)': \(result.standardError)")
    }
  }

  @Test func omkrReadsTheKeysOmkgWroteAndCountsMissingOnesAsFailures() async throws {
    let directory = try await initialisedDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let om = try await OMProcess.start(metadataDirectory: directory)
    let target = "127.0.0.1:\(om.port)"

    let write = try await O3Binary.run(["freon", "omkg", "--om", target, "-n", "20", "-t", "4", "-p", "k", "--json"])
    #expect(write.exitCode == 0, "omkg: \(write.standardError)")
    #expect(try report(write)["succeeded"] as? Int == 20)

    let read = try await O3Binary.run(["freon", "omkr", "--om", target, "-n", "60", "-t", "4", "-p", "k", "--key-count", "20", "--json"])
    #expect(read.exitCode == 0, "omkr: \(read.standardError)")
    let summary = try report(read)
    #expect(summary["operation"] as? String == "LookupKey")
    #expect(summary["succeeded"] as? Int == 60)
    #expect((summary["operationsPerSecond"] as? Double ?? 0) > 0)

    let missing = try await O3Binary.run(["freon", "omkr", "--om", target, "-n", "5", "-t", "1", "-p", "nope", "-f", "--json"])
    #expect(missing.exitCode == 255)
    #expect(try report(missing)["failed"] as? Int == 5)
    #expect(missing.standardError.contains("KEY_NOT_FOUND"), "stderr: \(missing.standardError)")
    #expect(await om.stop() == 0)
  }
}
