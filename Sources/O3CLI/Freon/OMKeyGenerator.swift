import ArgumentParser
import Foundation
import O3Common
import OMProto
import OzoneClient

/// `o3 freon omkg`: creates keys `<prefix>/<n>` (CreateKey + CommitKey, metadata only) as fast as
/// the OM takes them, like Ozone's OmKeyGenerator; creates the volume and bucket when missing.
struct OMKeyGenerator: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "omkg", abstract: "Create keys in the OM's metadata (CreateKey + CommitKey).",
    aliases: ["om-key-generator"])

  @OptionGroup var shell: ShellOptions
  @OptionGroup var freon: FreonOptions
  @OptionGroup var target: FreonBucketOptions
  @Option(name: [.short, .long], help: "Data size each key records, e.g. 0, 4096, 10MB (no data is written).")
  var size = "0"

  func validate() throws {
    do {
      _ = try StorageSize.parse(size)
    } catch let error as StorageSize.ParseError {
      throw ValidationError("--size: \(error.message)")
    }
  }

  func run() async throws {
    let dataSize = UInt64(try StorageSize.parse(size))
    let runner = try freon.runner(name: "omkg")
    let prefix = freon.resolvedPrefix()
    let (volume, bucket) = (target.volume, target.bucket)
    let report = try await shell.withClient(try target.path()) { client in
      try await Self.ensureBucket(client, volume: volume, bucket: bucket)
      FileHandle.standardError.write(Data("omkg: creating keys /\(volume)/\(bucket)/\(prefix)/<n>\n".utf8))
      let outcome = await runner.run { index in
        let key = FreonBucketOptions.keyName(prefix: prefix, index: index)
        do {
          try await client.putKey(volume, bucket, key, dataSize: dataSize)
        } catch {
          throw FreonOperationFailure(subject: key, cause: error)
        }
      }
      return FreonReport(
        generator: "omkg", operation: "CreateKey+CommitKey", volume: volume, bucket: bucket, prefix: prefix,
        plan: runner.plan, outcome: outcome)
    }
    try report.publish(asJSON: freon.json)
  }

  /// Creates the volume and the bucket unless they exist, as Ozone's freon does. The bucket gets
  /// no quota, so a volume that has a space quota refuses it (Ozone's rule): use another volume.
  static func ensureBucket(_ client: OzoneClient, volume: String, bucket: String) async throws {
    try await ensureVolume(client, volume: volume)
    do {
      _ = try await client.bucketInfo(volume, bucket)
    } catch let error as OzoneClientError where error.status == .bucketNotFound {
      do {
        try await client.createBucket(OMBucketGenerator.bucketInfo(volume: volume, bucket: bucket))
      } catch let error as OzoneClientError where error.status == .bucketAlreadyExists {}
    }
  }

  /// Creates the volume unless it exists (another generator racing to create it is fine).
  static func ensureVolume(_ client: OzoneClient, volume: String) async throws {
    do {
      _ = try await client.volumeInfo(volume)
    } catch let error as OzoneClientError where error.status == .volumeNotFound {
      do {
        try await client.createVolume(volume)
      } catch let error as OzoneClientError where error.status == .volumeAlreadyExists {}
    }
  }
}
