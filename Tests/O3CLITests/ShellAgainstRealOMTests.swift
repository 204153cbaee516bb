import Foundation
import O3TestSupport
import Testing

/// Drives the real `o3` binary against a real `o3 om` process, as a user would.
@Suite(.watchdog, .serialized) struct ShellAgainstRealOMTests {
  private func temporaryDirectory() throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("o3-cli-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
  }

  private func initialize(_ directory: String) async throws {
    let result = try await O3Binary.run(["om", "--init", "--set", "ozone.metadata.dirs=\(directory)"])
    #expect(result.exitCode == 0, "o3 om --init: \(result.standardError)")
  }

  /// Runs `o3 sh …` and expects success.
  @discardableResult
  private func shell(_ arguments: String...) async throws -> ProcessRun {
    let result = try await O3Binary.run(["sh"] + arguments)
    #expect(result.exitCode == 0, "o3 sh \(arguments.joined(separator: " ")): \(result.standardError)")
    return result
  }

  /// Runs `o3 sh …` and expects Ozone's one-line failure starting with `status`.
  private func shellFails(_ status: String, _ arguments: String...) async throws {
    let result = try await O3Binary.run(["sh"] + arguments)
    #expect(result.exitCode == 255, "o3 sh \(arguments.joined(separator: " ")) should fail")
    #expect(result.standardError.hasPrefix(status), "stderr: \(result.standardError)")
    #expect(result.standardError.split(separator: "\n").count == 1, "one line: \(result.standardError)")
  }

  @Test func volumesBucketsAndKeysThroughTheShell() async throws {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try await initialize(directory)
    let om = try await OMProcess.start(metadataDirectory: directory)
    let root = om.address

    try await shell("volume", "create", "\(root)/vol1", "--space-quota", "10GB", "--namespace-quota", "5", "-u", "alice")
    let volume = try #require(try await shell("volume", "info", "\(root)/vol1").json as? [String: Any])
    #expect(volume["name"] as? String == "vol1")
    #expect(volume["owner"] as? String == "alice")
    #expect(volume["quotaInBytes"] as? Int == 10_737_418_240)
    #expect(volume["quotaInNamespace"] as? Int == 5)
    try await shellFails("VOLUME_ALREADY_EXISTS", "volume", "create", "\(root)/vol1")
    try await shellFails("INVALID_VOLUME_NAME", "volume", "create", "\(root)/Vol_1")
    try await shellFails("VOLUME_NOT_FOUND", "volume", "info", "\(root)/nope")
    // Update prints the volume as it is after the change, as Ozone does.
    let afterUpdate = try #require(try await shell("volume", "update", "\(root)/vol1", "--user", "bob").json as? [String: Any])
    #expect(afterUpdate["name"] as? String == "vol1")
    #expect(afterUpdate["owner"] as? String == "bob")
    #expect(afterUpdate["quotaInNamespace"] as? Int == 5)
    try await shell("volume", "clrquota", "\(root)/vol1", "--namespace-quota")
    let updated = try #require(try await shell("volume", "info", "\(root)/vol1").json as? [String: Any])
    #expect(updated["owner"] as? String == "bob")
    #expect(updated["quotaInNamespace"] as? Int == -1)
    let volumes = try #require(try await shell("volume", "list", "\(root)/", "--all").json as? [[String: Any]])
    #expect(volumes.map { $0["name"] as? String } == ["vol1"])

    try await shell("bucket", "create", "\(root)/vol1/bucket1", "--namespace-quota", "100", "--space-quota", "1GB")
    try await shell("bucket", "create", "\(root)/vol1/bucket2", "--space-quota", "2GB")
    try await shellFails("QUOTA_ERROR", "bucket", "create", "\(root)/vol1/bucket4")
    try await shellFails("BUCKET_ALREADY_EXISTS", "bucket", "create", "\(root)/vol1/bucket1")
    try await shellFails("QUOTA_EXCEEDED", "bucket", "create", "\(root)/vol1/bucket3", "--space-quota", "11GB")
    let updatedBucket = try #require(
      try await shell("bucket", "update", "\(root)/vol1/bucket2", "--versioning", "true", "--user", "carol").json as? [String: Any])
    #expect(updatedBucket["name"] as? String == "bucket2")
    #expect(updatedBucket["versioning"] as? Bool == true)
    #expect(updatedBucket["owner"] as? String == "carol")
    try await shell("bucket", "setquota", "\(root)/vol1/bucket2", "--space-quota", "1GB")
    let bucket = try #require(try await shell("bucket", "info", "\(root)/vol1/bucket2").json as? [String: Any])
    #expect(bucket["versioning"] as? Bool == true)
    #expect(bucket["quotaInBytes"] as? Int == 1 << 30)
    #expect(bucket["bucketLayout"] as? String == "OBJECT_STORE")
    let buckets = try #require(try await shell("bucket", "list", "\(root)/vol1", "--length", "1").json as? [[String: Any]])
    #expect(buckets.map { $0["name"] as? String } == ["bucket1"])

    let freon = try await O3Binary.run(["freon", "omkg", "--om", "127.0.0.1:\(om.port)", "-v", "vol1", "-b", "bucket1", "-n", "30", "-t", "4", "-p", "k"])
    #expect(freon.exitCode == 0, "freon: \(freon.standardError)")
    let keys = try #require(try await shell("key", "list", "\(root)/vol1/bucket1", "--all").json as? [[String: Any]])
    #expect(keys.count == 30)
    let page = try #require(try await shell("key", "list", "\(root)/vol1/bucket1", "--start", "k/1", "--length", "2").json as? [[String: Any]])
    #expect(page.map { $0["name"] as? String } == ["k/10", "k/11"])
    try await shell("key", "rename", "\(root)/vol1/bucket1", "k/0", "renamed")
    let key = try #require(try await shell("key", "info", "\(root)/vol1/bucket1/renamed").json as? [String: Any])
    #expect(key["name"] as? String == "renamed")
    try await shellFails("KEY_NOT_FOUND", "key", "info", "\(root)/vol1/bucket1/k/0")
    try await shell("key", "delete", "\(root)/vol1/bucket1/renamed")
    try await shellFails("BUCKET_NOT_EMPTY", "bucket", "delete", "\(root)/vol1/bucket1")
    try await shellFails("VOLUME_NOT_EMPTY", "volume", "delete", "\(root)/vol1")
    try await shell("bucket", "delete", "\(root)/vol1/bucket2")
    let usage = try #require(try await shell("bucket", "info", "\(root)/vol1/bucket1").json as? [String: Any])
    #expect(usage["usedNamespace"] as? Int == 29)

    // A clean stop keeps everything; a restart serves it again.
    #expect(await om.stop() == 0, "SIGTERM stops the OM cleanly: \(om.output)")
    let restarted = try await OMProcess.start(metadataDirectory: directory)
    let after = try #require(try await shell("key", "list", "\(restarted.address)/vol1/bucket1", "--all").json as? [[String: Any]])
    #expect(after.count == 29)
    #expect(await restarted.stop() == 0)
  }

  @Test func usageErrorsAndUnreachableOMs() async throws {
    let badLength = try await O3Binary.run(["sh", "key", "list", "/vol1/bucket1", "--length", "0"])
    #expect(badLength.exitCode == 2)
    #expect(badLength.standardError.contains("List length should be a positive number"))
    let badPath = try await O3Binary.run(["sh", "bucket", "info", "/vol1"])
    #expect(badPath.exitCode == 2)
    // Ozone's ensureRootAddress: volume list refuses a volume instead of listing every volume.
    for address in ["o3://omservice/vol1", "/vol1", "o3://127.0.0.1:1/vol1/bucket1"] {
      let listVolume = try await O3Binary.run(["sh", "volume", "list", address])
      #expect(listVolume.exitCode == 2, "volume list \(address): \(listVolume.standardError)")
      #expect(listVolume.standardError.hasPrefix("'\(address)' is not a root address"), "\(listVolume.standardError)")
      #expect(listVolume.standardError.split(separator: "\n").count == 1, "one line: \(listVolume.standardError)")
      #expect(listVolume.standardOutput.isEmpty)
    }
    let unreachable = try await O3Binary.run(["sh", "volume", "info", "o3://127.0.0.1:1/vol1"])
    #expect(unreachable.exitCode == 255)
    #expect(unreachable.standardError == "cannot reach the OM: 127.0.0.1:1: connection refused\n")
  }

  @Test func initRefusesToOverwriteAndTheOMRefusesToRunUninitialised() async throws {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let uninitialised = try await O3Binary.run(["om", "--set", "ozone.metadata.dirs=\(directory)", "--set", "ozone.om.address=127.0.0.1:0"])
    #expect(uninitialised.exitCode == 1)
    #expect(uninitialised.standardError.contains("o3 om --init"))
    try await initialize(directory)
    let again = try await O3Binary.run(["om", "--init", "--set", "ozone.metadata.dirs=\(directory)"])
    #expect(again.exitCode == 1)
    #expect(again.standardError.contains("already initialised"))
    let noDirectory = try await O3Binary.run(["om", "--init"])
    #expect(noDirectory.exitCode == 1)
    #expect(noDirectory.standardError.contains("ozone.metadata.dirs"))
  }
}
