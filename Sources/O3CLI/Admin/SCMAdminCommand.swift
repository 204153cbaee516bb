import ArgumentParser
import Foundation
import NIOPosix
import O3Common
import SCMProto
import StorageContainerManager

/// `o3 admin scm`: the SCM service (Ozone's `ozone admin scm`).
struct SCMAdminCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "scm", abstract: "Inspect the SCM service.", subcommands: [SCMRolesCommand.self])
}

/// Which SCMs to talk to: every SCM the configuration names, or Ozone's `--scm host:port`.
struct SCMAdminOptions: ParsableArguments {
  @OptionGroup var configurationOptions: ConfigurationOptions

  @Option(name: .long, help: "The admin address of an SCM (host:port), instead of those the configuration names.")
  var scm: String?

  func client() throws -> SCMClient {
    var addresses: [HostAndPort]
    if let scm {
      var configuration = OzoneConfiguration()
      configuration["ozone.scm.client.address"] = scm
      do {
        addresses = try SCMClient.adminAddresses(configuration)
      } catch {
        throw CommandFailure(message: "--scm \(scm): \(error)", exitCode: 2)
      }
    } else {
      do {
        addresses = try SCMClient.adminAddresses(try configurationOptions.load())
      } catch let failure as CommandFailure {
        throw failure
      } catch {
        throw CommandFailure(message: "\(error)", exitCode: 1)
      }
    }
    return SCMClient(addresses: addresses, group: MultiThreadedEventLoopGroup.singleton)
  }

  /// Sends `request` to the leader (or the SCM given); a refusal becomes the command's error.
  func call(_ request: SCMAdminRequest) async throws -> SCMAdminResponse {
    let response: SCMAdminResponse
    do {
      response = try await client().admin(request)
    } catch let failure as CommandFailure {
      throw failure
    } catch {
      throw CommandFailure(message: "\(error)")
    }
    guard response.status == .ok else { throw CommandFailure(message: "\(response.status): \(response.message)") }
    return response
  }
}

/// `o3 admin scm roles`: every SCM of the service with its Raft role, as Ozone prints them:
/// `host:ratisPort:LEADER|FOLLOWER:id:ip`, or `--json`.
struct SCMRolesCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(commandName: "roles", abstract: "List the SCMs of the service with their Raft role.")

  @OptionGroup var options: SCMAdminOptions

  @Flag(name: .long, help: "Print JSON keyed by host, as Ozone does.")
  var json = false

  func run() async throws {
    var request = SCMAdminRequest()
    request.cmdType = .adminGetScmInfo
    let response = try await options.call(request)
    let roles = response.getScmInfoResponse.peerRoles
    if json {
      printJSON(.object(roles.compactMap(Self.jsonEntry)))
    } else {
      for line in roles { print(line) }
    }
  }

  /// `"host": {"address": "host:port", "raftPeerRole": …, "ID": …, "InetAddress": …}`.
  static func jsonEntry(_ line: String) -> (String, JSONValue)? {
    let parts = line.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
    guard parts.count == 5 else { return nil }
    return (
      parts[0],
      .object([
        ("address", .string("\(parts[0]):\(parts[1])")), ("raftPeerRole", .string(parts[2])), ("ID", .string(parts[3])),
        ("InetAddress", .string(parts[4])),
      ])
    )
  }
}
