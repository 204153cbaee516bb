import ArgumentParser
import Foundation
import O3Common
import O3Service
import O3Threads
import OzoneManager

/// `o3 local`: the OM service `omservice` — three OMs on 127.0.0.1 — with one command.
///
/// Writes each OM's `ozone-site.xml` and a client one, initialises the OMs on first use, starts
/// them as `o3 om` child processes (each logging to its own `om.log`), waits for a leader,
/// prints how to reach the service, and on SIGINT or SIGTERM stops all three and waits for them.
struct LocalCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "local",
    abstract: "Run the OM service 'omservice' (om1, om2, om3) on 127.0.0.1, data under ./o3-data.")

  @Option(name: .long, help: "Where the OMs' data, configuration files and logs go.")
  var dataDirectory = "o3-data"

  @Option(name: .long, help: "om1's client port; om2 and om3 add 100 and 200; Raft and HTTP ports add 10 and 12.")
  var basePort = LocalServiceLayout.defaultBasePort

  @Option(name: .customLong("set"), help: "Override a key in every OM's configuration: --set key=value (repeatable).")
  var overrides: [String] = []

  @Option(name: .long, help: "Seconds to wait for the OMs to elect a leader.")
  var startTimeoutSeconds = 120

  /// How often the OMs are polled while waiting for a leader and watched afterwards.
  private static let pollInterval: Duration = .milliseconds(200)
  /// How long the OMs get to stop after SIGTERM before they are killed.
  private static let stopTimeout: Duration = .seconds(60)

  func run() async throws {
    O3Logging.bootstrap()
    let signals = TerminationSignal.install()
    let root = URL(fileURLWithPath: dataDirectory).standardizedFileURL.path
    let layout: LocalServiceLayout
    do {
      layout = try LocalServiceLayout(root: root, basePort: basePort)
    } catch {
      throw CommandFailure(message: "\(error)", exitCode: 2)
    }
    try Self.requireFreePorts(layout)
    // Writing the files and creating the databases fsyncs: on a thread of its own, not the pool.
    let service = try await onOwnThread("local-prepare") { [overrides] in try Self.prepare(layout, overrides: overrides) }
    let processes = try LocalOMProcesses.start(layout)
    // Whatever ends this command, no OM outlives it.
    defer { processes.kill() }
    guard let roles = try await waitForLeader(service, processes: processes, signals: signals) else {
      try await stop(processes)
      return
    }
    Self.announce(layout, roles: roles)
    while signals.received == nil {
      for (nodeID, outcome) in processes.newlyExited() {
        FileHandle.standardError.write(Data("o3 local: \(nodeID) \(outcome); see \(root)/\(nodeID)/om.log\n".utf8))
      }
      try? await Task.sleep(for: Self.pollInterval)
    }
    try await stop(processes)
  }

  /// Writes the configuration files and initialises the OMs on first use.
  ///
  /// Refuses a directory where only some OMs are initialised (an older single-OM `o3 local`, or
  /// a node's data removed by hand): such a node would start a Raft group of its own.
  private static func prepare(_ layout: LocalServiceLayout, overrides: [String]) throws -> OMServiceConfiguration {
    do {
      let configurations = try layout.nodes.map { try layout.serverConfiguration($0, overrides: overrides) }
      let storages = try configurations.map { try OMStorage(configuration: $0) }
      let initialised = zip(layout.nodes, storages).filter { $0.1.isInitialized }.map(\.0.nodeID)
      guard initialised.isEmpty || initialised.count == layout.nodes.count else {
        throw CommandFailure(
          message: "o3 local: only \(initialised.joined(separator: ", ")) of om1, om2, om3 hold data in \(layout.root); "
            + "remove that directory (its data is lost) or choose another --data-directory", exitCode: 1)
      }
      for (node, (configuration, storage)) in zip(layout.nodes, zip(configurations, storages)) {
        try FileManager.default.createDirectory(atPath: node.directory, withIntermediateDirectories: true)
        try LocalServiceLayout.hadoopXML(configuration).write(toFile: node.configurationFile, atomically: true, encoding: .utf8)
        if initialised.isEmpty { try storage.initializeBlocking() }
      }
      try LocalServiceLayout.hadoopXML(layout.clientConfiguration).write(
        toFile: layout.clientConfigurationFile, atomically: true, encoding: .utf8)
      return try OMServiceConfiguration(configuration: layout.clientConfiguration, requireLocalNode: false)
    } catch let failure as CommandFailure {
      throw failure
    } catch {
      throw CommandFailure(message: "o3 local: cannot prepare \(layout.root): \(error)", exitCode: 1)
    }
  }

  /// Polls the OMs' roles until one leads and is ready; nil when a signal came first.
  private func waitForLeader(
    _ service: OMServiceConfiguration, processes: LocalOMProcesses, signals: TerminationSignal
  ) async throws -> OMServiceRoles? {
    let deadline = ContinuousClock.now + .seconds(startTimeoutSeconds)
    while signals.received == nil {
      if let (nodeID, outcome) = processes.newlyExited().first {
        throw CommandFailure(
          message: "o3 local: \(nodeID) \(outcome) while starting; the end of its log:\n"
            + processes.logTail(of: nodeID), exitCode: 1)
      }
      let roles = await OMServiceRoles.collect(service, timeout: .seconds(2))
      if roles.leader?.status?.leaderReady == true { return roles }
      guard ContinuousClock.now < deadline else {
        throw CommandFailure(
          message: "o3 local: no leader after \(startTimeoutSeconds) s; see the logs under \(processes.root)", exitCode: 1)
      }
      try? await Task.sleep(for: Self.pollInterval)
    }
    return nil
  }

  /// SIGTERM to every OM, then waits for all of them; an OM that does not stop in time is killed.
  private func stop(_ processes: LocalOMProcesses) async throws {
    FileHandle.standardError.write(Data("o3 local: stopping the OMs\n".utf8))
    let unclean = await processes.terminate(within: Self.stopTimeout, pollInterval: Self.pollInterval)
    guard unclean.isEmpty else {
      throw CommandFailure(
        message: "o3 local: " + unclean.map { "\($0.nodeID) \($0.outcome)" }.joined(separator: ", "), exitCode: 1)
    }
    FileHandle.standardError.write(Data("o3 local: all OMs stopped\n".utf8))
  }

  /// Refuses to start when a port is taken, naming the port and the key that sets it.
  private static func requireFreePorts(_ layout: LocalServiceLayout) throws {
    let taken = layout.portsWithKeys.filter { !PortProbe.isFree(host: layout.host, port: $0.port) }
    guard taken.isEmpty else {
      let list = taken.map { "port \($0.port) (\($0.key))" }.joined(separator: ", ")
      throw CommandFailure(
        message: "o3 local: \(list) already in use on \(layout.host); stop what uses it (another o3 local?) "
          + "or choose other ports with --base-port", exitCode: 1)
    }
  }

  /// Prints the endpoints and what to paste into another shell, on standard output unbuffered.
  private static func announce(_ layout: LocalServiceLayout, roles: OMServiceRoles) {
    let service = LocalServiceLayout.serviceID
    var text = "O3 local: service \(service), 3 OMs on \(layout.host), data in \(layout.root)\n"
    for node in layout.nodes {
      let role = roles.entries.first { $0.node.nodeID == node.nodeID }?.status?.role.rawValue ?? "STARTING"
      text += "  \(node.nodeID)  \(role.padding(toLength: 9, withPad: " ", startingAt: 0))"
      text += "client \(layout.host):\(node.clientPort)  raft \(layout.host):\(node.raftPort)  "
      text += "http http://\(layout.host):\(node.httpPort)/  log \(node.logFile)\n"
    }
    text += """
      Use it from another shell:
        export OZONE_CONF_DIR=\(layout.root)
        o3 sh volume create o3://\(service)/vol1 && o3 sh bucket create o3://\(service)/vol1/bucket1
        o3 admin om roles
      Stop all three with Ctrl-C.

      """
    FileHandle.standardOutput.write(Data(text.utf8))
  }
}
