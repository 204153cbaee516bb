import ArgumentParser
import Foundation
import OzoneManager

/// `o3 admin om roles`: every OM of the service with its Raft role, term and lag
/// (Ozone's `ozone admin om roles`, alias `getserviceroles`).
struct RolesCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "roles", abstract: "List the OMs of the service with their Raft role, term and lag.",
    aliases: ["getserviceroles"])

  @OptionGroup var serviceOptions: AdminServiceOptions

  @Flag(name: .long, help: "Print JSON (Ozone's shape, with term, indexes and lag added).")
  var json = false

  @Option(name: .long, help: "Seconds to wait for each OM's answer.")
  var timeoutSeconds: Double = 5

  func run() async throws {
    let service = try serviceOptions.service()
    let roles = await OMServiceRoles.collect(service, timeout: .milliseconds(Int64(timeoutSeconds * 1000)))
    if json {
      printJSON(Self.json(roles))
    } else {
      for entry in roles.entries { print(Self.line(entry, roles: roles)) }
    }
    guard roles.entries.contains(where: { $0.status != nil }) else {
      throw CommandFailure(message: "no OM of the service answered; are they running?")
    }
  }

  /// `om1 : LEADER (host) term=3 lag=0`: Ozone's line, then what HA operators ask next; an OM
  /// that did not answer: `om1 : UNREACHABLE (127.0.0.1:9862: connection refused)`.
  static func line(_ entry: OMServiceRoles.Entry, roles: OMServiceRoles) -> String {
    let prefix = "\(entry.node.nodeID) : "
    guard let status = entry.status else {
      return prefix + "UNREACHABLE (\(whyUnanswered(entry)))"
    }
    let lag = roles.lag(of: entry.node.nodeID).map { "\($0)" } ?? "?"
    var text = prefix + "\(status.role.rawValue) (\(entry.node.clientAddress.host)) term=\(status.term) lag=\(lag)"
    if let install = status.checkpointInstall { text += " " + install.summary }
    return text
  }

  /// An UNREACHABLE error's message names the address already; another refusal (an OM shutting
  /// down) is named with its code after the OM's address.
  private static func whyUnanswered(_ entry: OMServiceRoles.Entry) -> String {
    guard let error = entry.error else { return "\(entry.node.clientAddress)" }
    return error.code == .unreachable ? error.message : "\(entry.node.clientAddress): \(error.description)"
  }

  /// `[ { "om1" : { "serverRole" : "LEADER", "hostname" : "…", … } }, … ]`: Ozone's fields first.
  static func json(_ roles: OMServiceRoles) -> JSONValue {
    .array(
      roles.entries.map { entry in
        var fields: [(String, JSONValue)] = [
          ("serverRole", .string(entry.status?.role.rawValue ?? "UNREACHABLE")),
          ("hostname", .string(entry.node.clientAddress.host)),
          ("address", .string("\(entry.node.clientAddress)")),
        ]
        if let status = entry.status {
          fields += [
            ("term", .unsigned(status.term)), ("leaderId", .string(status.leaderId ?? "")),
            ("leaderReady", .boolean(status.leaderReady)), ("commitIndex", .unsigned(status.commitIndex)),
            ("appliedIndex", .unsigned(status.appliedIndex)),
          ]
          if let lag = roles.lag(of: entry.node.nodeID) { fields.append(("lag", .unsigned(lag))) }
          if let install = status.checkpointInstall { fields.append(("checkpointInstall", .string(install.summary))) }
        } else if let error = entry.error {
          fields.append(("error", .string(error.description)))
        }
        return .object([(entry.node.nodeID, .object(fields))])
      })
  }
}
