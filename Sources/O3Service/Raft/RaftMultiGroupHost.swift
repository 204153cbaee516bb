import Foundation
import Logging
import NIOCore
import O3Common
import O3Threads
import Raft
import RaftCore
import RaftRPC
import Synchronization

/// Hosts many Raft groups behind one Raft port: what a datanode runs for its pipelines (Ozone's
/// `hdds.container.ratis.ipc.port`, 9858; Ratis' `RaftServerProxy`). Groups are added and removed
/// while it runs (SCM's create- and close-pipeline commands) and recovered from their directories
/// when it starts.
///
/// Each group is a `RaftServer` of its own — its own log under ``RaftGroupDirectories``, its own
/// loop and apply threads, its own state machine from the factory — on a shared
/// `RaftRPCEndpoint`, so groups share the port and one connection per remote process but never a
/// thread that fsyncs. The local peer id is the same in every group (a `PeerID` names a process).
///
/// A group's fatal error (its log or its state machine fails) stops that group only: the host
/// shuts it down, keeps its directory, and reports it through `onGroupFailure` (for a datanode, a
/// close-pipeline action to SCM, as Ozone does for an unhealthy container state machine). The
/// process goes on serving the other groups; the failed one is gone once removed.
///
/// One group's add and remove are serialized by its state here (`starting`, `stopping`), so a
/// second request for the same id while one is under way is answered `busy`.
public final class RaftMultiGroupHost: Sendable {
  /// Makes the state machine of a group when it is added or recovered.
  public typealias StateMachineFactory = @Sendable (RaftGroupID) async throws -> any ReplicatedStateMachine
  /// Told when a group failed and was stopped (or could not be recovered at start).
  public typealias GroupFailureHandler = @Sendable (RaftGroupID, any Error) -> Void

  private let settings: Settings
  private let endpoint: RaftRPCEndpoint
  private let directories: RaftGroupDirectories
  private let stateMachines: StateMachineFactory
  private let logger: Logger
  private let onGroupFailure: GroupFailureHandler
  private let state = Mutex(State())

  private struct State {
    var groups: [RaftGroupID: GroupState] = [:]
    /// Removed in this process's life: never added again (see `RaftGroupHostError.Code.removedEarlier`).
    var removedThisRun: Set<RaftGroupID> = []
    var stopped = false
  }

  private enum GroupState {
    /// Being added or recovered; `failure` says why it failed if its server failed before then.
    case starting(failure: String?)
    case running(RaftServer)
    /// Failed: its server is being shut down.
    case failing(RaftServer, reason: String)
    /// Failed and stopped; its directory is kept until it is removed.
    case failed(reason: String)
    /// Being removed, or the host is shutting down.
    case stopping
  }

  private init(
    settings: Settings, endpoint: RaftRPCEndpoint, directories: RaftGroupDirectories,
    stateMachines: @escaping StateMachineFactory, logger: Logger, onGroupFailure: @escaping GroupFailureHandler
  ) {
    self.settings = settings
    self.endpoint = endpoint
    self.directories = directories
    self.stateMachines = stateMachines
    self.logger = logger
    self.onGroupFailure = onGroupFailure
  }

  /// Binds the Raft port, then recovers every group stored under the root directory (its
  /// founding members from its spec; the log is bootstrapped only if it is empty). A group that
  /// cannot be recovered is reported through `onGroupFailure` and left on disk; the others start.
  ///
  /// - Throws: `ConfigurationError` naming `listenAddressKey` when the port cannot be bound or
  ///   the limits are inconsistent, or naming no key for a segment size below the log's minimum;
  ///   the root directory's own errors (`RaftLogError`) as they are.
  public static func start(
    _ settings: Settings, stateMachines: @escaping StateMachineFactory, eventLoopGroup: any EventLoopGroup,
    logger: Logger, onGroupFailure: @escaping GroupFailureHandler
  ) async throws -> RaftMultiGroupHost {
    guard settings.segmentSizeBytes >= DurableRaftLog.segmentSizeBytesMin else {
      throw ConfigurationError(
        key: nil,
        message: "the Raft segment size \(settings.segmentSizeBytes) is below \(DurableRaftLog.segmentSizeBytesMin) bytes")
    }
    let endpoint: RaftRPCEndpoint
    do {
      endpoint = try RaftRPCEndpoint(
        localPeer: settings.localPeer, listenHost: settings.listenAddress.host, listenPort: settings.listenAddress.port,
        eventLoopGroup: eventLoopGroup, limits: settings.limits, logger: logger)
      try await endpoint.start()
    } catch {
      throw ConfigurationError(key: settings.listenAddressKey, message: "\(error)")
    }
    let directories = RaftGroupDirectories(root: settings.rootDirectory, logger: logger)
    let stored: [RaftGroupID]
    do {
      stored = try await onOwnThread("raft-groups-scan") { try directories.scan() }
    } catch {
      await endpoint.shutdown()
      throw error
    }
    let host = RaftMultiGroupHost(
      settings: settings, endpoint: endpoint, directories: directories, stateMachines: stateMachines,
      logger: logger, onGroupFailure: onGroupFailure)
    for group in stored {
      await host.recover(group)
    }
    logger.info("Raft groups on port \(endpoint.localPort): \(stored.count) recovered from \(settings.rootDirectory)")
    return host
  }

  /// The port every group listens on (useful when configured as 0).
  public var port: Int { endpoint.localPort }

  /// The groups running now, in id order.
  public var groups: [RaftGroupID] {
    state.withLock { state in
      state.groups.filter { _, entry in
        guard case .running = entry else { return false }
        return true
      }.keys.sorted()
    }
  }

  /// The groups stopped after a failure and not removed yet, in id order.
  public var failedGroups: [RaftGroupID] {
    state.withLock { state in
      state.groups.filter { _, entry in
        switch entry {
        case .failing, .failed: return true
        case .starting, .running, .stopping: return false
        }
      }.keys.sorted()
    }
  }

  /// The server of a running group; nil for any other. Cheap (one lock): usable on event loops.
  public func server(for group: RaftGroupID) -> RaftServer? {
    state.withLock { state -> RaftServer? in
      guard case .running(let server) = state.groups[group] else { return nil }
      return server
    }
  }

  /// The shared transport's counters: per remote process and per group.
  public var transportStatistics: RaftRPCStatistics { endpoint.statistics }

  /// Creates a group (its directory, spec and empty log) and starts this peer in it: SCM's
  /// create-pipeline. The log is bootstrapped with the spec's members.
  ///
  /// - Throws: ``RaftGroupHostError``: `invalidSpec` (nothing created), `alreadyExists`, `busy`,
  ///   `removedEarlier`, `stopped`; `storageFailure` or `groupFailed` when it could not be
  ///   created or started (nothing of it is left then, unless it failed after starting).
  @discardableResult
  public func addGroup(_ spec: RaftGroupSpec) async throws(RaftGroupHostError) -> RaftServer {
    try validate(spec)
    try reserve(spec.id)
    do {
      try await onOwnThread("raft-group-create") { [directories] in try directories.create(spec) }
    } catch {
      state.withLock { _ = $0.groups.removeValue(forKey: spec.id) }
      throw RaftGroupHostError(.storageFailure, spec.id, "its directory could not be created: \(error)")
    }
    let server: RaftServer
    do {
      server = try await startServer(spec)
    } catch {
      await discardCreated(spec.id)
      throw RaftGroupHostError(.groupFailed, spec.id, "it could not start: \(error)")
    }
    try await finishStart(spec.id, server)
    logger.info("added Raft group \(spec.id) with members \(spec.members.map(\.peer))")
    return server
  }

  /// Stops this peer in the group and deletes its directory: SCM's close-pipeline. Also removes
  /// a group stopped after a failure.
  ///
  /// - Throws: ``RaftGroupHostError``: `notFound`, `busy`, `stopped`; `storageFailure` when the
  ///   directory could not be removed (the group is then stopped and listed as failed).
  public func removeGroup(_ group: RaftGroupID) async throws(RaftGroupHostError) {
    let server: RaftServer? = try state.withLock { state throws(RaftGroupHostError) in
      guard !state.stopped else { throw RaftGroupHostError(.stopped, group, "the host is shutting down") }
      switch state.groups[group] {
      case nil:
        throw RaftGroupHostError(.notFound, group, "no such group is hosted here")
      case .starting, .stopping:
        throw RaftGroupHostError(.busy, group, "the group is being added or removed")
      case .running(let server), .failing(let server, _):
        // A failing group's server may still be stopping: shutting it down again waits for that.
        state.groups[group] = .stopping
        return server
      case .failed:
        state.groups[group] = .stopping
        return nil
      }
    }
    if let server {
      await server.shutdown()
    }
    do {
      try await onOwnThread("raft-group-remove") { [directories] in try directories.tombstone(group) }
    } catch {
      let reason = "its directory could not be removed: \(error)"
      state.withLock { $0.groups[group] = .failed(reason: reason) }
      throw RaftGroupHostError(.storageFailure, group, reason)
    }
    state.withLock { state in
      state.groups[group] = nil
      state.removedThisRun.insert(group)
    }
    logger.info("removed Raft group \(group)")
  }

  /// Stops every group (at once, each on its own threads), then the port. Group directories stay.
  public func shutdown() async {
    let servers = state.withLock { state in
      state.stopped = true
      var servers: [RaftServer] = []
      for (group, entry) in state.groups {
        switch entry {
        case .running(let server):
          servers.append(server)
          state.groups[group] = .stopping
        case .failing(let server, _):
          servers.append(server)
        case .starting, .failed, .stopping:
          break
        }
      }
      return servers
    }
    await withTaskGroup(of: Void.self) { tasks in
      for server in servers {
        tasks.addTask { await server.shutdown() }
      }
    }
    await endpoint.shutdown()
  }

  // MARK: Starting a group

  private func validate(_ spec: RaftGroupSpec) throws(RaftGroupHostError) {
    if let problem = spec.problem {
      throw RaftGroupHostError(.invalidSpec, spec.id, problem)
    }
    guard spec.members.contains(where: { $0.peer == settings.localPeer }) else {
      throw RaftGroupHostError(
        .invalidSpec, spec.id,
        "its members \(spec.members.map(\.peer)) do not include this peer (\(settings.localPeer))")
    }
  }

  /// Marks `group` as starting, or says why it cannot be added.
  private func reserve(_ group: RaftGroupID) throws(RaftGroupHostError) {
    try state.withLock { state throws(RaftGroupHostError) in
      guard !state.stopped else { throw RaftGroupHostError(.stopped, group, "the host is shutting down") }
      switch state.groups[group] {
      case nil:
        break
      case .starting, .stopping:
        throw RaftGroupHostError(.busy, group, "the group is being added or removed")
      case .running:
        throw RaftGroupHostError(.alreadyExists, group, "the group is hosted already")
      case .failing(_, let reason), .failed(let reason):
        throw RaftGroupHostError(.alreadyExists, group, "the group is hosted but stopped after a failure: \(reason)")
      }
      guard !state.removedThisRun.contains(group) else {
        throw RaftGroupHostError(
          .removedEarlier, group, "the group was removed earlier; a removed group's id is not used again")
      }
      state.groups[group] = .starting(failure: nil)
    }
  }

  /// Recovers a stored group at start; a failure is reported, not thrown.
  private func recover(_ group: RaftGroupID) async {
    state.withLock { $0.groups[group] = .starting(failure: nil) }
    let server: RaftServer
    do {
      let spec = try await onOwnThread("raft-group-spec") { [directories] in try directories.readSpec(group) }
      server = try await startServer(spec)
    } catch {
      let reason = "it could not be recovered from \(directories.root): \(error)"
      state.withLock { $0.groups[group] = .failed(reason: reason) }
      logger.error("Raft group \(group) is not served: \(reason); its directory is kept")
      onGroupFailure(group, error)
      return
    }
    do {
      try await finishStart(group, server)
    } catch {
      // Its failure was reported as it happened (groupFailed).
      logger.warning("Raft group \(group) did not stay up after recovery: \(error)")
    }
  }

  /// Opens the group's log (on a thread of its own: recovery reads and fsyncs), makes its state
  /// machine and transport, and starts its server. On failure nothing of it keeps running and its
  /// log is closed.
  private func startServer(_ spec: RaftGroupSpec) async throws -> RaftServer {
    var groupLogger = logger
    groupLogger[metadataKey: "raft.group"] = "\(spec.id)"
    let logDirectory = directories.logDirectory(of: spec.id)
    let segmentSizeBytes = settings.segmentSizeBytes
    let log = try await onOwnThread("raft-log-open") { [groupLogger] in
      try DurableRaftLog.open(directory: logDirectory, segmentSizeBytes: segmentSizeBytes, logger: groupLogger)
    }
    do {
      let stateMachine = try await stateMachines(spec.id)
      let transport = try endpoint.transport(for: spec.id)
      for member in spec.members where member.peer != settings.localPeer {
        transport.setAddress(member.address, of: member.peer)
      }
      var configuration = settings.raft
      configuration.raft.id = settings.localPeer
      configuration.groupID = spec.id
      do {
        return try await RaftServer.start(
          configuration: configuration, log: log, initialMembership: spec.membership, stateMachine: stateMachine,
          transport: transport, logger: groupLogger,
          onFatalError: { [weak self] error in self?.groupFailed(spec.id, error) })
      } catch {
        await transport.shutdown()
        throw error
      }
    } catch {
      log.close()
      throw error
    }
  }

  /// Marks a started group running, unless it failed meanwhile or the host began shutting down:
  /// then its server is stopped and the reason thrown.
  private func finishStart(_ group: RaftGroupID, _ server: RaftServer) async throws(RaftGroupHostError) {
    let refusal: RaftGroupHostError? = state.withLock { state in
      guard case .starting(let failure) = state.groups[group] else {
        preconditionFailure("Raft group \(group) changed state while it was starting")
      }
      if let failure {
        state.groups[group] = .failing(server, reason: failure)
        return RaftGroupHostError(.groupFailed, group, "it failed as it started: \(failure)")
      }
      if state.stopped {
        state.groups[group] = .stopping
        return RaftGroupHostError(.stopped, group, "the host is shutting down")
      }
      state.groups[group] = .running(server)
      return nil
    }
    guard let refusal else { return }
    await server.shutdown()
    if refusal.code == .groupFailed {
      state.withLock { $0.groups[group] = .failed(reason: refusal.message) }
    }
    throw refusal
  }

  /// Undoes an add whose server did not start: its directory goes, and the id is free again
  /// (the peer never took part in the group, so nothing it promised is lost).
  private func discardCreated(_ group: RaftGroupID) async {
    do {
      try await onOwnThread("raft-group-remove") { [directories] in try directories.tombstone(group) }
      state.withLock { _ = $0.groups.removeValue(forKey: group) }
    } catch {
      let reason = "it did not start, and its directory could not be removed: \(error)"
      state.withLock { $0.groups[group] = .failed(reason: reason) }
      logger.error("Raft group \(group): \(reason)")
    }
  }

  // MARK: A group's failure

  /// A group's log or state machine failed (on its loop or apply thread): stop that group, keep
  /// its directory, tell `onGroupFailure` once.
  private func groupFailed(_ group: RaftGroupID, _ error: any Error) {
    let reason = "\(error)"
    let (reported, server) = state.withLock { state -> (Bool, RaftServer?) in
      switch state.groups[group] {
      case .running(let server):
        state.groups[group] = .failing(server, reason: reason)
        return (true, server)
      case .starting(failure: nil):
        state.groups[group] = .starting(failure: reason)
        return (true, nil)
      case .starting, .failing, .failed, .stopping, nil:
        return (false, nil)
      }
    }
    guard reported else { return }
    logger.error("Raft group \(group) failed and is stopped; the other groups go on: \(error)")
    onGroupFailure(group, error)
    guard let server else { return }
    Task {
      await server.shutdown()
      self.state.withLock { state in
        if case .failing = state.groups[group] { state.groups[group] = .failed(reason: reason) }
      }
    }
  }
}
