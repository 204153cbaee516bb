import ArgumentParser
import O3Common
import OzoneManager

/// `o3 admin`: operate the OM service (Ozone's `ozone admin`).
struct AdminCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "admin", abstract: "Administer the OM and SCM services (like 'ozone admin').",
    subcommands: [OMAdminCommand.self, SCMAdminCommand.self, DatanodeAdminCommand.self, SafeModeAdminCommand.self])
}

/// `o3 admin om`: the OM service's Raft group.
struct OMAdminCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "om", abstract: "Inspect and steer the OM service's Raft group.",
    subcommands: [
      RolesCommand.self, TransferCommand.self, DecommissionCommand.self, PrepareCommand.self, CancelPrepareCommand.self,
    ])
}

/// Which OM service to talk to: the configuration plus Ozone's `--service-id` (`-id` in 2.0).
struct AdminServiceOptions: ParsableArguments {
  @OptionGroup var configurationOptions: ConfigurationOptions

  @Option(
    name: [.customLong("service-id"), .customLong("id", withSingleDash: true)],
    help: "The OM service id (default: the first of ozone.om.service.ids).")
  var serviceID: String?

  /// The service's nodes and addresses as the configuration describes them.
  func service() throws -> OMServiceConfiguration {
    var configuration = try configurationOptions.load()
    if let serviceID {
      let configured = (configuration["ozone.om.service.ids"] ?? "").split(separator: ",").map {
        $0.trimmingCharacters(in: .whitespaces)
      }
      guard configured.contains(serviceID) else {
        throw CommandFailure(
          message: "service id '\(serviceID)' is not in ozone.om.service.ids (\(configured.joined(separator: ",")))"
            + "; set OZONE_CONF_DIR or pass --conf", exitCode: 1)
      }
      configuration["ozone.om.internal.service.id"] = serviceID
    }
    do {
      return try OMServiceConfiguration(configuration: configuration, requireLocalNode: false)
    } catch {
      throw CommandFailure(message: "\(error)", exitCode: 1)
    }
  }
}
