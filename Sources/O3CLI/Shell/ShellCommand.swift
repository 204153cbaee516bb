import ArgumentParser
import Foundation
import O3Common
import OMProto
import OzoneClient

/// `o3 sh`: Ozone's object-store shell (`ozone sh`) for volumes, buckets and keys.
struct ShellCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "sh", abstract: "Manage volumes, buckets and keys (like 'ozone sh').",
    subcommands: [VolumeCommand.self, BucketCommand.self, KeyCommand.self])
}

/// Options every shell command takes: where the configuration is.
struct ShellOptions: ParsableArguments {
  @OptionGroup var configurationOptions: ConfigurationOptions

  /// Connects to the OMs the path names (`o3://<serviceId>/…`: a service of
  /// `ozone.om.service.ids`, with failover; `o3://host[:port]/…`: that one OM), else the configured
  /// service, else `ozone.om.address`, else localhost:9862; runs `body`, and turns any failure into
  /// Ozone's one-line error.
  func withClient<Result>(_ path: OzonePath, _ body: (OzoneClient) async throws -> Result) async throws -> Result {
    let configuration = try configurationOptions.load()
    let userName = ProcessInfo.processInfo.environment["USER"] ?? ProcessInfo.processInfo.userName
    do {
      let client = try await connect(path, configuration: configuration, userName: userName.isEmpty ? "anonymous" : userName)
      do {
        let result = try await body(client)
        await client.close()
        return result
      } catch {
        await client.close()
        throw error
      }
    } catch let error as OzoneClientError {
      throw CommandFailure(message: error.description)
    }
  }

  private func connect(_ path: OzonePath, configuration: OzoneConfiguration, userName: String) async throws -> OzoneClient {
    do {
      switch try path.address.target(in: configuration) {
      case .node(let address):
        return try await OzoneClient.connect(
          to: address, userName: userName, failover: OMFailoverPolicy(configuration: configuration))
      case .service(let serviceID):
        return try await OzoneClient.connect(configuration: configuration, serviceID: serviceID, userName: userName)
      }
    } catch let error as ConfigurationError {
      throw CommandFailure(message: error.description, exitCode: 1)
    } catch let error as OzoneAddressError {
      throw CommandFailure(message: error.message, exitCode: 2)
    }
  }
}

/// Paging options shared by the list commands (Ozone's ListOptions).
struct ListOptions: ParsableArguments {
  @Option(name: [.short, .customLong("length")], help: "Maximum number of results (default 100).")
  var length: Int = 100

  @Flag(name: [.short, .long], help: "List every result, page by page.")
  var all = false

  @Option(name: [.short, .long], help: "Start after this name (exclusive).")
  var start: String = ""

  @Option(name: [.short, .long], help: "Only names with this prefix.")
  var prefix: String = ""

  func validate() throws {
    if length <= 0 { throw ValidationError("List length should be a positive number") }
  }

  /// Collects results page by page until `length` (or everything, with --all).
  func collect<Item>(
    name: (Item) -> String, page: (_ startAfter: String, _ count: UInt32) async throws -> (items: [Item], isTruncated: Bool)
  ) async throws -> [Item] {
    var results: [Item] = []
    var startAfter = start
    while all || results.count < length {
      let wanted = all ? 1000 : min(1000, length - results.count)
      let (items, isTruncated) = try await page(startAfter, UInt32(wanted))
      results += items
      guard isTruncated, let last = items.last else { break }
      startAfter = name(last)
    }
    return results
  }
}

/// Quota options (`setquota`, `create`): sizes with units, counts as integers.
struct QuotaOptions: ParsableArguments {
  @Option(name: [.customLong("space-quota"), .customLong("quota")], help: "Space quota, e.g. 10GB (powers of 1024).")
  var spaceQuota: String?

  @Option(name: .customLong("namespace-quota"), help: "Namespace quota: the most buckets (volume) or keys (bucket).")
  var namespaceQuota: Int64?

  func bytes() throws -> Int64? {
    guard let spaceQuota else { return nil }
    do {
      let value = try StorageSize.parse(spaceQuota)
      guard value > 0 else { throw CommandFailure(message: "invalid space quota '\(spaceQuota)': it must be positive", exitCode: 2) }
      return value
    } catch let error as StorageSize.ParseError {
      throw CommandFailure(message: "invalid space quota: \(error.message)", exitCode: 2)
    }
  }

  func namespace() throws -> Int64? {
    guard let namespaceQuota else { return nil }
    guard namespaceQuota > 0 else {
      throw CommandFailure(message: "invalid namespace quota \(namespaceQuota): it must be positive", exitCode: 2)
    }
    return namespaceQuota
  }
}

/// Prints a JSON value on standard output.
func printJSON(_ value: JSONValue) {
  print(value.render())
}
