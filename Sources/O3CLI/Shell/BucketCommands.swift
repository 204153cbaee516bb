import ArgumentParser
import OMProto
import OzoneClient

/// `o3 sh bucket …`
struct BucketCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bucket", abstract: "Bucket operations.",
    subcommands: [Create.self, Info.self, List.self, Update.self, SetQuota.self, ClearQuota.self, Delete.self])

  struct Create: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create a bucket.")
    @OptionGroup var shell: ShellOptions
    @OptionGroup var quota: QuotaOptions
    @Option(name: [.customShort("u"), .customLong("user")], help: "Owner of the bucket (default: you).") var owner: String?
    @Option(name: [.short, .customLong("layout")], help: "Bucket layout: obs (OBJECT_STORE, the only one O3 has yet).")
    var layout: String = "obs"
    @Option(name: .customLong("storage-type"), help: "DISK, SSD, ARCHIVE or RAM_DISK.") var storageType: String = "DISK"
    @Flag(name: .long, help: "Keep old versions of overwritten keys.") var versioning = false
    @Argument(help: "/volume/bucket") var address: String

    func run() async throws {
      let path = try OzonePath.parse(address)
      let (volume, bucket) = try path.requireBucket(address)
      var info = BucketInfo()
      info.volumeName = volume
      info.bucketName = bucket
      info.owner = owner ?? ""
      info.bucketLayout = try BucketOptionParsing.layout(layout)
      info.storageType = try BucketOptionParsing.storageType(storageType)
      info.isVersionEnabled = versioning
      info.quotaInBytes = try quota.bytes() ?? -1
      info.quotaInNamespace = try quota.namespace() ?? -1
      try await shell.withClient(path) { try await $0.createBucket(info) }
    }
  }

  struct Info: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show a bucket.")
    @OptionGroup var shell: ShellOptions
    @Argument(help: "/volume/bucket") var address: String

    func run() async throws {
      let path = try OzonePath.parse(address)
      let (volume, bucket) = try path.requireBucket(address)
      let info = try await shell.withClient(path) { try await $0.bucketInfo(volume, bucket) }
      printJSON(OzoneJSON.bucket(info))
    }
  }

  struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List a volume's buckets.", aliases: ["ls"])
    @OptionGroup var shell: ShellOptions
    @OptionGroup var list: ListOptions
    @Argument(help: "/volume") var address: String

    func run() async throws {
      let path = try OzonePath.parse(address)
      let volume = try path.requireVolume(address)
      let buckets = try await shell.withClient(path) { client in
        try await list.collect(name: \.bucketName) { startAfter, count in
          let page = try await client.listBuckets(volume, prefix: list.prefix, startAfter: startAfter, count: count)
          return (page.buckets, page.isTruncated)
        }
      }
      printJSON(.array(buckets.map(OzoneJSON.bucket)))
    }
  }

  struct Update: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Change a bucket's owner, versioning or storage type; prints the updated bucket.")
    @OptionGroup var shell: ShellOptions
    @Option(name: [.customShort("u"), .customLong("user")], help: "The new owner.") var owner: String?
    @Option(name: .long, help: "true or false.") var versioning: Bool?
    @Option(name: .customLong("storage-type"), help: "DISK, SSD, ARCHIVE or RAM_DISK.") var storageType: String?
    @Argument(help: "/volume/bucket") var address: String

    func run() async throws {
      let path = try OzonePath.parse(address)
      let (volume, bucket) = try path.requireBucket(address)
      var request = SetBucketPropertyRequest()
      request.volumeName = volume
      request.bucketName = bucket
      if let owner { request.owner = owner }
      if let versioning { request.isVersionEnabled = versioning }
      if let storageType { request.storageType = try BucketOptionParsing.storageType(storageType) }
      guard owner != nil || versioning != nil || storageType != nil else {
        throw CommandFailure(message: "nothing to change: give --user, --versioning or --storage-type", exitCode: 2)
      }
      // Ozone reads the bucket back after the change, so the output shows the new modificationTime.
      let updated = try await shell.withClient(path) { client in
        try await client.setBucketProperty(request)
        return try await client.bucketInfo(volume, bucket)
      }
      printJSON(OzoneJSON.bucket(updated))
    }
  }

  struct SetQuota: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "setquota", abstract: "Set a bucket's quotas.")
    @OptionGroup var shell: ShellOptions
    @OptionGroup var quota: QuotaOptions
    @Argument(help: "/volume/bucket") var address: String

    func run() async throws {
      let path = try OzonePath.parse(address)
      let (volume, bucket) = try path.requireBucket(address)
      var request = SetBucketPropertyRequest()
      request.volumeName = volume
      request.bucketName = bucket
      if let bytes = try quota.bytes() { request.quotaInBytes = bytes }
      if let namespace = try quota.namespace() { request.quotaInNamespace = namespace }
      guard request.hasQuotaInBytes || request.hasQuotaInNamespace else {
        throw CommandFailure(message: "give --space-quota and/or --namespace-quota", exitCode: 2)
      }
      try await shell.withClient(path) { try await $0.setBucketProperty(request) }
    }
  }

  struct ClearQuota: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "clrquota", abstract: "Clear a bucket's quotas.")
    @OptionGroup var shell: ShellOptions
    @Flag(name: .customLong("space-quota"), help: "Clear the space quota.") var space = false
    @Flag(name: .customLong("namespace-quota"), help: "Clear the namespace quota.") var namespace = false
    @Argument(help: "/volume/bucket") var address: String

    func run() async throws {
      guard space || namespace else {
        throw CommandFailure(message: "give --space-quota and/or --namespace-quota", exitCode: 2)
      }
      let path = try OzonePath.parse(address)
      let (volume, bucket) = try path.requireBucket(address)
      var request = SetBucketPropertyRequest()
      request.volumeName = volume
      request.bucketName = bucket
      if space { request.quotaInBytes = -1 }
      if namespace { request.quotaInNamespace = -1 }
      try await shell.withClient(path) { try await $0.setBucketProperty(request) }
    }
  }

  struct Delete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Delete an empty bucket.")
    @OptionGroup var shell: ShellOptions
    @Argument(help: "/volume/bucket") var address: String

    func run() async throws {
      let path = try OzonePath.parse(address)
      let (volume, bucket) = try path.requireBucket(address)
      try await shell.withClient(path) { try await $0.deleteBucket(volume, bucket) }
      print("Bucket \(bucket) is deleted")
    }
  }
}

/// Parses the bucket options that name protocol enums.
enum BucketOptionParsing {
  static func layout(_ text: String) throws -> BucketLayout {
    switch text.lowercased() {
    case "obs", "object_store": return .objectStore
    case "fso", "file_system_optimized", "legacy":
      throw CommandFailure(message: "NOT_SUPPORTED_OPERATION bucket layout \(text) is not supported yet; use obs")
    default: throw CommandFailure(message: "unknown bucket layout '\(text)' (obs, fso or legacy)", exitCode: 2)
    }
  }

  static func storageType(_ text: String) throws -> StorageType {
    switch text.uppercased() {
    case "DISK": return .disk
    case "SSD": return .ssd
    case "ARCHIVE": return .archive
    case "RAM_DISK": return .ramDisk
    default: throw CommandFailure(message: "unknown storage type '\(text)' (DISK, SSD, ARCHIVE or RAM_DISK)", exitCode: 2)
    }
  }
}
