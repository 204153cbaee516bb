import ArgumentParser
import Foundation
import OMProto
import OzoneClient

/// `o3 freon ombg`: creates buckets `<prefix><n>` in one volume as fast as the OM takes them,
/// like Ozone's OmBucketGenerator; creates the volume when missing.
///
/// Each operation is one CreateBucket, one replicated write: the plainest measure of the OM's
/// write path. A timed run wraps indexes around -n, so give an -n larger than the run can create
/// (a second CreateBucket of a name fails with BUCKET_ALREADY_EXISTS).
struct OMBucketGenerator: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "ombg", abstract: "Create buckets in the OM's metadata (CreateBucket).",
    aliases: ["om-bucket-generator"])

  /// Ozone's shortest and longest bucket names.
  static let bucketNameLengths = 3...63

  @OptionGroup var shell: ShellOptions
  @OptionGroup var freon: FreonOptions
  @Option(name: [.short, .long], help: "Volume of the test buckets; created when missing.") var volume = "vol1"
  @OptionGroup var service: FreonServiceOptions

  func validate() throws {
    if let problem = Self.prefixProblem(freon.prefix, count: freon.count) { throw ValidationError(problem) }
  }

  func run() async throws {
    let runner = try freon.runner(name: "ombg")
    let prefix = freon.resolvedPrefix()
    let volume = volume
    let report = try await shell.withClient(try service.path()) { client in
      try await OMKeyGenerator.ensureVolume(client, volume: volume)
      FileHandle.standardError.write(Data("ombg: creating buckets /\(volume)/\(prefix)<n>\n".utf8))
      let outcome = await runner.run { index in
        let bucket = Self.bucketName(prefix: prefix, index: index)
        do {
          try await client.createBucket(Self.bucketInfo(volume: volume, bucket: bucket))
        } catch {
          throw FreonOperationFailure(subject: bucket, cause: error)
        }
      }
      return FreonReport(
        generator: "ombg", operation: "CreateBucket", volume: volume, bucket: "\(prefix)<n>", prefix: prefix,
        plan: runner.plan, outcome: outcome)
    }
    try report.publish(asJSON: freon.json)
  }

  /// The name of the bucket with index `index`: `<prefix><index>`, as Ozone's ombg names them.
  static func bucketName(prefix: String, index: Int) -> String {
    "\(prefix)\(index)"
  }

  /// A bucket with no quota, as Ozone's ombg creates them.
  static func bucketInfo(volume: String, bucket: String) -> BucketInfo {
    var info = BucketInfo()
    info.volumeName = volume
    info.bucketName = bucket
    info.quotaInBytes = -1
    info.quotaInNamespace = -1
    return info
  }

  /// Why `prefix` cannot name buckets `<prefix>0` … `<prefix>(count − 1)`, or nil when it can; an
  /// empty prefix is replaced by a random valid one. The OM checks the remaining rules (no `..`,
  /// nothing shaped like an IPv4 address) and a refused name is a failed operation.
  static func prefixProblem(_ prefix: String, count: Int) -> String? {
    guard !prefix.isEmpty else { return nil }
    let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789-.")
    if let bad = prefix.first(where: { !allowed.contains($0) }) {
      return "--prefix '\(prefix)' has '\(bad)': bucket names take lowercase letters, digits, '-' and '.'"
    }
    if let first = prefix.first, first == "-" || first == "." {
      return "--prefix '\(prefix)' starts with '\(first)': bucket names start with a letter or a digit"
    }
    let shortest = bucketName(prefix: prefix, index: 0).count
    let longest = bucketName(prefix: prefix, index: max(0, count - 1)).count
    if shortest < bucketNameLengths.lowerBound || longest > bucketNameLengths.upperBound {
      return "--prefix '\(prefix)' gives bucket names of \(shortest) to \(longest) characters; "
        + "bucket names are \(bucketNameLengths.lowerBound) to \(bucketNameLengths.upperBound) characters long"
    }
    return nil
  }
}
