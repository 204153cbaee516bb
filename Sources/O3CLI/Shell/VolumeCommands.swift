import ArgumentParser
import OzoneClient

/// `o3 sh volume …`
struct VolumeCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "volume", abstract: "Volume operations.",
    subcommands: [Create.self, Info.self, List.self, Update.self, SetQuota.self, ClearQuota.self, Delete.self])

  struct Create: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create a volume.")
    @OptionGroup var shell: ShellOptions
    @OptionGroup var quota: QuotaOptions
    @Option(name: [.customShort("u"), .customLong("user")], help: "Owner of the volume (default: you).") var owner: String?
    @Argument(help: "/volume") var address: String

    func run() async throws {
      let path = try OzonePath.parse(address)
      let volume = try path.requireVolume(address)
      let (bytes, namespace) = (try quota.bytes(), try quota.namespace())
      try await shell.withClient(path) { client in
        try await client.createVolume(volume, owner: owner, quotaInBytes: bytes, quotaInNamespace: namespace)
      }
    }
  }

  struct Info: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show a volume.")
    @OptionGroup var shell: ShellOptions
    @Argument(help: "/volume") var address: String

    func run() async throws {
      let path = try OzonePath.parse(address)
      let volume = try path.requireVolume(address)
      let info = try await shell.withClient(path) { try await $0.volumeInfo(volume) }
      printJSON(OzoneJSON.volume(info))
    }
  }

  struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "list", abstract: "List your volumes, another user's (-u), or all of them (--all).", aliases: ["ls"])
    @OptionGroup var shell: ShellOptions
    @OptionGroup var list: ListOptions
    @Option(name: [.customShort("u"), .customLong("user")], help: "List this user's volumes.") var user: String?
    @Argument(help: "/ (or o3://host:port/)") var address: String = "/"

    func run() async throws {
      let path = try OzonePath.parse(address)
      try path.requireRoot(address)
      let volumes = try await shell.withClient(path) { client in
        // Ozone: per user by default; --all lists every volume of the cluster.
        let owner: String? = list.all && user == nil ? nil : (user ?? client.userName)
        return try await list.collect(name: \.volume) { startAfter, count in
          let page = try await client.listVolumes(
            user: owner, prefix: list.prefix, startAfter: startAfter, maxKeys: count)
          return (page.volumes, page.isTruncated)
        }
      }
      printJSON(.array(volumes.map(OzoneJSON.volume)))
    }
  }

  struct Update: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Change a volume's owner; prints the updated volume.")
    @OptionGroup var shell: ShellOptions
    @Option(name: [.customShort("u"), .customLong("user")], help: "The new owner.") var owner: String
    @Argument(help: "/volume") var address: String

    func run() async throws {
      let path = try OzonePath.parse(address)
      let volume = try path.requireVolume(address)
      // Ozone reads the volume back after the change, so the output shows the new modificationTime.
      let updated = try await shell.withClient(path) { client in
        try await client.setVolumeProperty(volume, owner: owner)
        return try await client.volumeInfo(volume)
      }
      printJSON(OzoneJSON.volume(updated))
    }
  }

  struct SetQuota: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "setquota", abstract: "Set a volume's quotas.")
    @OptionGroup var shell: ShellOptions
    @OptionGroup var quota: QuotaOptions
    @Argument(help: "/volume") var address: String

    func run() async throws {
      let path = try OzonePath.parse(address)
      let volume = try path.requireVolume(address)
      let (bytes, namespace) = (try quota.bytes(), try quota.namespace())
      guard bytes != nil || namespace != nil else {
        throw CommandFailure(message: "give --space-quota and/or --namespace-quota", exitCode: 2)
      }
      try await shell.withClient(path) {
        try await $0.setVolumeProperty(volume, quotaInBytes: bytes, quotaInNamespace: namespace)
      }
    }
  }

  struct ClearQuota: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "clrquota", abstract: "Clear a volume's quotas.")
    @OptionGroup var shell: ShellOptions
    @Flag(name: .customLong("space-quota"), help: "Clear the space quota.") var space = false
    @Flag(name: .customLong("namespace-quota"), help: "Clear the namespace quota.") var namespace = false
    @Argument(help: "/volume") var address: String

    func run() async throws {
      guard space || namespace else {
        throw CommandFailure(message: "give --space-quota and/or --namespace-quota", exitCode: 2)
      }
      let path = try OzonePath.parse(address)
      let volume = try path.requireVolume(address)
      try await shell.withClient(path) {
        try await $0.setVolumeProperty(volume, quotaInBytes: space ? -1 : nil, quotaInNamespace: namespace ? -1 : nil)
      }
    }
  }

  struct Delete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Delete an empty volume.")
    @OptionGroup var shell: ShellOptions
    @Argument(help: "/volume") var address: String

    func run() async throws {
      let path = try OzonePath.parse(address)
      let volume = try path.requireVolume(address)
      try await shell.withClient(path) { try await $0.deleteVolume(volume) }
      print("Volume \(volume) is deleted")
    }
  }
}
