import ArgumentParser

/// `o3 freon`: Ozone's load generator, for the metadata operations O3 has.
struct FreonCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "freon", abstract: "Generate load (like 'ozone freon').",
    subcommands: [OMKeyGenerator.self, OMBucketGenerator.self, OMKeyReader.self])
}
