import O3Common

/// Safe mode's keys: `hdds.scm.safemode.enabled` (true) and `hdds.scm.safemode.min.datanode` (1).
public struct SCMSafeModeSettings: Sendable {
  public var enabled: Bool
  public var minimumDatanodes: Int

  public init(configuration: OzoneConfiguration) throws {
    enabled = try configuration.boolean("hdds.scm.safemode.enabled", default: true)
    minimumDatanodes = try configuration.integer("hdds.scm.safemode.min.datanode", default: 1)
    guard minimumDatanodes >= 0 else {
      throw ConfigurationError(key: "hdds.scm.safemode.min.datanode", message: "must not be negative")
    }
  }
}

/// Ozone's safe mode: until enough of the cluster has reported, SCM refuses to allocate blocks
/// (`SAFE_MODE_EXCEPTION`), so that clients do not write to a cluster that does not yet know where
/// its data is.
///
/// One rule so far, Ozone's DataNodeSafeModeRule: at least `hdds.scm.safemode.min.datanode`
/// datanodes registered. No datanode registers yet (they come with the next part of this step), so
/// an SCM with safe mode enabled stays in it; the container and pipeline rules come with them.
struct SCMSafeMode: Sendable {
  var settings: SCMSafeModeSettings
  /// Datanodes registered so far.
  var registeredDatanodes: @Sendable () -> Int = { 0 }

  /// Each rule with whether it holds and Ozone's words for it.
  var rules: [(name: String, validated: Bool, text: String)] {
    let registered = registeredDatanodes()
    return [
      (
        "DataNodeSafeModeRule", registered >= settings.minimumDatanodes,
        "registered datanodes (=\(registered)) >= required datanodes (=\(settings.minimumDatanodes))"
      )
    ]
  }

  var inSafeMode: Bool { settings.enabled && rules.contains { !$0.validated } }

  /// Why a block cannot be allocated now; nil when out of safe mode.
  var refusal: String? {
    guard inSafeMode else { return nil }
    return rules.filter { !$0.validated }.map { "\($0.name): \($0.text)" }.joined(separator: "; ")
  }
}
