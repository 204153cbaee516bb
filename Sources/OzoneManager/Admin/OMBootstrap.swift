import Foundation
import NIOCore
import NIOPosix
import O3Common

/// The joining OM's side of `o3 om --bootstrap` (Ozone's `OzoneManager.bootstrap`): check that
/// every existing OM's configuration lists it, then ask the leader, one step at a time, to add it
/// as a learner, let it catch up and promote it.
public enum OMBootstrap {
  /// An existing OM whose configuration does not list the joining OM as the joining OM's own
  /// configuration does (or that could not be asked).
  public struct ConfigurationProblem: Sendable, Equatable, CustomStringConvertible {
    public var nodeID: String
    public var reason: String

    public var description: String { "\(nodeID): \(reason)" }
  }

  /// Asks every other OM of `service` for its configuration, re-read from its file, and returns
  /// those that do not list the local node at the same client and Raft addresses.
  public static func checkConfigurations(
    _ service: OMServiceConfiguration, timeout: Duration = .seconds(5),
    group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
  ) async -> [ConfigurationProblem] {
    let local = OMNodeAddresses(service.local)
    var problems: [ConfigurationProblem] = []
    for node in service.nodes where node.nodeID != service.localNodeID {
      do {
        let reply = try await OMAdminClient.configuration(at: node.clientAddress, timeout: timeout, group: group)
        if reply.serviceId != service.serviceID {
          problems.append(ConfigurationProblem(nodeID: node.nodeID, reason: "it serves \(reply.serviceId ?? "no service id")"))
        } else if let listed = reply.node(local.nodeId) {
          if !listed.sameEndpoints(as: local) {
            problems.append(
              ConfigurationProblem(
                nodeID: node.nodeID,
                reason: "it lists \(local.nodeId) at client \(listed.clientAddress), Raft \(listed.raftAddress), not "
                  + "client \(local.clientAddress), Raft \(local.raftAddress)"))
          }
        } else {
          problems.append(
            ConfigurationProblem(
              nodeID: node.nodeID,
              reason: "its configuration does not list \(local.nodeId) (ozone.om.nodes.\(service.serviceID ?? "")"
                + " is \(reply.nodes.map(\.nodeId).joined(separator: ",")))"))
        }
      } catch {
        problems.append(ConfigurationProblem(nodeID: node.nodeID, reason: "cannot ask it: \(error)"))
      }
    }
    return problems
  }

  /// Asks the leader to add the local node until it is a voter; transient refusals (no leader,
  /// NOT_LEADER, a change in progress, an unreachable OM) are retried every `pollInterval`.
  ///
  /// - Parameters:
  ///   - timeout: give up after this long; nil keeps trying (the OM keeps serving meanwhile).
  ///   - stop: polled between steps; once it returns true the call gives up (a signal arrived).
  ///   - report: hears each change of phase or state, and the progress every few seconds.
  /// - Throws: `OMAdminError` for a definitive refusal (addresses that differ, a malformed
  ///   request, a leader without the admin protocol), `unreachable` after `timeout`, and
  ///   `unavailable` when stopped.
  public static func join(
    _ service: OMServiceConfiguration, pollInterval: Duration = .milliseconds(500), timeout: Duration? = nil,
    group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, stop: @Sendable () -> Bool = { false },
    report: @escaping @Sendable (String) -> Void
  ) async throws(OMAdminError) -> OMBootstrapProgress {
    let request = OMBootstrapRequest(node: OMNodeAddresses(service.local))
    let deadline = timeout.map { ContinuousClock.now + $0 }
    var reporter = ProgressReporter(report: report)
    var leader: HostAndPort?
    var lastProblem = "no leader found yet"
    while deadline.map({ ContinuousClock.now < $0 }) ?? true {
      if stop() { throw OMAdminError(.unavailable, "\(service.localNodeID) stopped before it became a voter") }
      if leader == nil { leader = await findLeader(service, group: group) }
      if let address = leader {
        do throws(OMAdminError) {
          let step = try await OMAdminClient.bootstrap(at: address, request, group: group)
          reporter.note(step)
          if step.phase == .voter { return step }
        } catch {
          guard isTransient(error.code) else { throw error }
          lastProblem = error.description
          reporter.note(problem: lastProblem)
          if error.code != .membershipChangeRefused { leader = nil }
        }
      } else {
        reporter.note(problem: lastProblem)
      }
      try? await Task.sleep(for: pollInterval)
    }
    throw OMAdminError(
      .unreachable, "\(service.localNodeID) did not become a voter within \(timeout.map { "\($0)" } ?? ""); last: \(lastProblem)")
  }

  /// Refusals that a later step may not meet.
  static func isTransient(_ code: OMAdminError.Code) -> Bool {
    switch code {
    case .unreachable, .notLeader, .unavailable, .membershipChangeRefused: true
    default: false
    }
  }

  /// The client address of the OM that leads in the highest term, asked of the other OMs.
  private static func findLeader(_ service: OMServiceConfiguration, group: any EventLoopGroup) async -> HostAndPort? {
    let roles = await OMServiceRoles.collect(service, timeout: .seconds(2), group: group)
    guard let leader = roles.leader, leader.node.nodeID != service.localNodeID else { return nil }
    return leader.node.clientAddress
  }

  /// Says what changed, and the catch-up progress at most every `interval`.
  private struct ProgressReporter {
    let report: @Sendable (String) -> Void
    let interval: Duration = .seconds(5)
    var lastState: String?
    var lastTime = ContinuousClock.now

    mutating func note(_ step: OMBootstrapProgress) {
      let state = "\(step.phase.rawValue)/\(step.replicationState)/\(step.leaderId)"
      guard state != lastState || ContinuousClock.now - lastTime >= interval else { return }
      lastState = state
      lastTime = ContinuousClock.now
      switch step.phase {
      case .voter:
        report("\(step.nodeId) is a voter of the OM service (leader \(step.leaderId), term \(step.term))")
      case .catchingUp:
        let how =
          switch step.replicationState {
          case "snapshot": "installing the leader's checkpoint"
          case "replicate": "receiving the log"
          default: "finding where its log meets the leader's"
          }
        report(
          "\(step.nodeId) is a learner catching up with leader \(step.leaderId), \(how): "
            + "it holds \(step.matchIndex) of \(step.commitIndex) committed entries")
      }
    }

    mutating func note(problem: String) {
      guard problem != lastState || ContinuousClock.now - lastTime >= interval else { return }
      lastState = problem
      lastTime = ContinuousClock.now
      report("waiting: \(problem)")
    }
  }
}
