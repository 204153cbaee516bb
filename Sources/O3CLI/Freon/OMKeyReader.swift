import ArgumentParser
import Foundation
import OzoneClient

/// `o3 freon omkr`: looks up (LookupKey) the keys `o3 freon omkg` created with the same prefix,
/// in index order or at random, and reports the rate; a missing key is a failed operation.
///
/// Ozone has no generator by this name: its nearest are `ommg --operation LOOKUP_KEY` (whose keys
/// are named differently) and `ockv` (which reads key data; O3 has none).
struct OMKeyReader: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "omkr", abstract: "Look up keys created by 'o3 freon omkg' (LookupKey).",
    aliases: ["om-key-reader"])

  @OptionGroup var shell: ShellOptions
  @OptionGroup var freon: FreonOptions
  @OptionGroup var target: FreonBucketOptions
  @Option(
    name: .customLong("key-count"),
    help: "Keys omkg created: lookups go to <prefix>/0 … <prefix>/(key-count − 1) (default: -n).")
  var keyCount: Int?
  @Flag(name: .long, help: "Pick each key at random from the range (default: in index order, wrapping around).")
  var random = false

  func validate() throws {
    guard !freon.prefix.isEmpty else {
      throw ValidationError("--prefix is required: give the prefix 'o3 freon omkg' reported")
    }
    if let keyCount, keyCount <= 0 { throw ValidationError("--key-count must be a positive integer") }
  }

  func run() async throws {
    let runner = try freon.runner(name: "omkr")
    let (volume, bucket, prefix, random) = (target.volume, target.bucket, freon.prefix, random)
    let keyCount = keyCount ?? freon.count
    let report = try await shell.withClient(try target.path()) { client in
      try await Self.requireBucket(client, volume: volume, bucket: bucket)
      let order = random ? " at random" : ""
      FileHandle.standardError.write(
        Data("omkr: looking up keys /\(volume)/\(bucket)/\(prefix)/0…\(keyCount - 1)\(order)\n".utf8))
      let outcome = await runner.run { index in
        let keyIndex = random ? Int.random(in: 0..<keyCount) : index % keyCount
        let key = FreonBucketOptions.keyName(prefix: prefix, index: keyIndex)
        do {
          _ = try await client.keyInfo(volume, bucket, key)
        } catch {
          throw FreonOperationFailure(subject: key, cause: error)
        }
      }
      return FreonReport(
        generator: "omkr", operation: "LookupKey", volume: volume, bucket: bucket, prefix: prefix,
        plan: runner.plan, outcome: outcome)
    }
    try report.publish(asJSON: freon.json)
  }

  /// Fails with one clear message when the bucket is missing, rather than every lookup failing.
  private static func requireBucket(_ client: OzoneClient, volume: String, bucket: String) async throws {
    do {
      _ = try await client.bucketInfo(volume, bucket)
    } catch let error as OzoneClientError where error.status == .volumeNotFound || error.status == .bucketNotFound {
      throw CommandFailure(
        message: "omkr: /\(volume)/\(bucket) does not exist (\(error)); create keys first with 'o3 freon omkg'")
    }
  }
}
