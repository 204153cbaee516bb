import ArgumentParser
import OMProto
import OzoneClient

/// `o3 sh key …` (metadata only: O3 has no data plane yet, so there is no put or get).
struct KeyCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "key", abstract: "Key operations.", subcommands: [Info.self, List.self, Rename.self, Delete.self])

  struct Info: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show a key.")
    @OptionGroup var shell: ShellOptions
    @Argument(help: "/volume/bucket/key") var address: String

    func run() async throws {
      let path = try OzonePath.parse(address)
      let (volume, bucket, key) = try path.requireKey(address)
      let info = try await shell.withClient(path) { try await $0.keyInfo(volume, bucket, key) }
      printJSON(OzoneJSON.key(info))
    }
  }

  struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List a bucket's keys.", aliases: ["ls"])
    @OptionGroup var shell: ShellOptions
    @OptionGroup var list: ListOptions
    @Argument(help: "/volume/bucket") var address: String

    func run() async throws {
      let path = try OzonePath.parse(address)
      let (volume, bucket) = try path.requireBucket(address)
      let keys = try await shell.withClient(path) { client in
        try await list.collect(name: \.keyName) { startAfter, count in
          let page = try await client.listKeys(volume, bucket, prefix: list.prefix, startAfter: startAfter, count: count)
          return (page.keys, page.isTruncated)
        }
      }
      printJSON(.array(keys.map(OzoneJSON.key)))
    }
  }

  struct Rename: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Rename a key within its bucket.")
    @OptionGroup var shell: ShellOptions
    @Argument(help: "/volume/bucket") var address: String
    @Argument(help: "The key's current name.") var fromKey: String
    @Argument(help: "The key's new name.") var toKey: String

    func run() async throws {
      let path = try OzonePath.parse(address)
      let (volume, bucket) = try path.requireBucket(address)
      try await shell.withClient(path) { try await $0.renameKey(volume, bucket, from: fromKey, to: toKey) }
      print("Key \(fromKey) is renamed to \(toKey)")
    }
  }

  struct Delete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Delete a key.")
    @OptionGroup var shell: ShellOptions
    @Argument(help: "/volume/bucket/key") var address: String

    func run() async throws {
      let path = try OzonePath.parse(address)
      let (volume, bucket, key) = try path.requireKey(address)
      try await shell.withClient(path) { try await $0.deleteKey(volume, bucket, key) }
      print("Key \(key) is deleted")
    }
  }
}
