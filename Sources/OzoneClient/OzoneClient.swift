import Foundation
import NIOCore
import NIOPosix
import O3Common
import O3RPC
import OMProto
import Synchronization
import SwiftProtobuf

/// A client of an OM service speaking the OM client protocol, failing over between its OMs.
///
/// Calls go to the OM that last answered; NOT_LEADER, LEADER_NOT_READY, TIMEOUT and missing
/// answers are retried by the rules of `OMFailover` (Ozone's). Every try of one call carries the
/// same client id and call id: the OM's retry cache answers the retry of a write it already
/// applied with the first answer, so a write whose answer was lost is not applied twice.
public final class OzoneClient: Sendable {
  public let service: OMServiceAddresses
  public let failover: OMFailoverPolicy
  public let userName: String
  public let clientID: String
  private let connections: OMNodeConnections
  private let nextCallID = Atomic<UInt64>(1)
  private let callTimeout: TimeAmount

  static let submitMethod = "om.submitRequest"

  private init(
    service: OMServiceAddresses, failover: OMFailoverPolicy, userName: String, group: any EventLoopGroup,
    callTimeout: TimeAmount, connectTimeout: TimeAmount
  ) {
    self.service = service
    self.failover = failover
    self.userName = userName
    self.callTimeout = callTimeout
    self.clientID = UUID().uuidString.lowercased()
    self.connections = OMNodeConnections(nodes: service.nodes, group: group, connectTimeout: connectTimeout)
  }

  /// Connects to the single OM at `address`, acting as `userName`; fails at once when it cannot
  /// be reached. Calls are still retried on that OM by `failover` (LEADER_NOT_READY, restarts).
  public static func connect(
    to address: HostAndPort, userName: String, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
    callTimeout: TimeAmount = .seconds(60), failover: OMFailoverPolicy = OMFailoverPolicy()
  ) async throws -> OzoneClient {
    let client = OzoneClient(
      service: OMServiceAddresses(singleOM: address), failover: failover, userName: userName, group: group,
      callTimeout: callTimeout, connectTimeout: .seconds(5))
    do {
      _ = try await client.connections.client(0)
    } catch {
      throw OzoneClientError.transport("\(address): \(ConnectionFailure.describe(error))")
    }
    return client
  }

  /// A client of the OM service `serviceID` as the configuration describes it (nil: the only
  /// service in `ozone.om.service.ids`, or without that key the single OM at `ozone.om.address`),
  /// retrying by `ozone.client.failover.max.attempts` and `ozone.client.wait.between.retries.millis`.
  /// Connections open on first use.
  ///
  /// - Throws: `ConfigurationError` naming the key that is missing or malformed.
  public static func connect(
    configuration: OzoneConfiguration, serviceID: String? = nil, userName: String,
    group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, callTimeout: TimeAmount = .seconds(60)
  ) async throws -> OzoneClient {
    let service = try OMServiceAddresses(configuration: configuration, serviceID: serviceID)
    let failover = try OMFailoverPolicy(configuration: configuration)
    return await connect(to: service, failover: failover, userName: userName, group: group, callTimeout: callTimeout)
  }

  /// A client of the OMs listed in `service`; connections open on first use.
  public static func connect(
    to service: OMServiceAddresses, failover: OMFailoverPolicy = OMFailoverPolicy(), userName: String,
    group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, callTimeout: TimeAmount = .seconds(60),
    connectTimeout: TimeAmount = .seconds(5)
  ) async -> OzoneClient {
    OzoneClient(
      service: service, failover: failover, userName: userName, group: group, callTimeout: callTimeout,
      connectTimeout: connectTimeout)
  }

  /// The OM the next call tries first: the one that last answered or was failed over to.
  public var currentNode: OMNodeAddress { service.nodes[connections.currentIndex] }

  /// The address of `currentNode`.
  public var address: HostAndPort { currentNode.address }

  public func close() async {
    await connections.close()
  }

  /// The commands that only read, which a follower may answer when follower reads are on.
  static let readCommands: Set<CommandType> = [.infoVolume, .listVolume, .infoBucket, .listBuckets, .lookupKey, .listKeys]

  /// Sends one request, failing over as needed, and returns the answer whatever its status
  /// (NOT_LEADER, LEADER_NOT_READY and TIMEOUT are retried, never returned).
  ///
  /// - Throws: `OzoneClientError.failoverExhausted` naming every OM tried once the retries are
  ///   spent; `.transport` or `.malformedResponse` for errors a retry would not cure.
  public func submit(_ request: OMRequest) async throws -> OMResponse {
    var request = request
    request.clientID = clientID
    request.callID = nextCallID.add(1, ordering: .relaxed).oldValue
    if request.userInfo.userName.isEmpty { request.userInfo.userName = userName }
    if failover.followerReadsEnabled && Self.readCommands.contains(request.cmdType)
      && request.readConsistencyHint == .readConsistencyUnspecified
    {
      request.readConsistencyHint = .linearizableAllowFollower
    }
    let payload: [UInt8] = try request.serializedBytes()
    var state = OMFailover(policy: failover, nodeIDs: service.nodes.map(\.nodeID), startingAt: connections.currentIndex)
    while true {
      let failure: OMTryFailure
      switch try await attempt(payload, on: state.nodeIndex) {
      case .answered(let response):
        guard let retryable = OMTryFailure(response) else {
          // Without a retry the node is the current one already; writing it anyway could undo
          // a failover another call just made.
          if state.retries > 0 { connections.currentIndex = state.nodeIndex }
          return response
        }
        failure = retryable
      case .failed(let noAnswer):
        failure = noAnswer
      }
      switch state.decide(after: failure) {
      case .giveUp:
        throw OzoneClientError.failoverExhausted(report(state))
      case .retry(let nodeIndex, let waitMilliseconds):
        connections.currentIndex = nodeIndex
        if waitMilliseconds > 0 { try await Task.sleep(for: .milliseconds(waitMilliseconds)) }
      }
    }
  }

  /// Sends one request and returns the response if its status is OK, else throws `refused`.
  @discardableResult
  public func call(_ cmdType: CommandType, _ body: OMRequest.OneOf_Body) async throws -> OMResponse {
    var request = OMRequest()
    request.cmdType = cmdType
    request.body = body
    let response = try await submit(request)
    guard response.status == .ok else {
      throw OzoneClientError.refused(status: response.status, message: response.message)
    }
    return response
  }

  private enum TryResult {
    case answered(OMResponse)
    case failed(OMTryFailure)
  }

  /// One try of a call on one OM.
  private func attempt(_ payload: [UInt8], on nodeIndex: Int) async throws -> TryResult {
    let node = service.nodes[nodeIndex]
    let rpc: RPCClient
    do {
      rpc = try await connections.client(nodeIndex)
    } catch let error as OzoneClientError {
      throw error
    } catch {
      return .failed(.unreachable(message: ConnectionFailure.describe(error)))
    }
    let reply: [UInt8]
    do {
      reply = try await rpc.call(method: Self.submitMethod, payload: payload, deadline: callTimeout)
    } catch RPCError.connectionClosed {
      return .failed(.noReply(message: "\(RPCError.connectionClosed)"))
    } catch RPCError.deadlineExceeded {
      return .failed(.noReply(message: "\(RPCError.deadlineExceeded)"))
    } catch {
      throw OzoneClientError.transport("\(node): \(error)")
    }
    do {
      return .answered(try OMResponse(serializedBytes: reply))
    } catch {
      throw OzoneClientError.malformedResponse("\(node): \(error)")
    }
  }

  private func report(_ state: OMFailover) -> OMFailoverReport {
    let outcomes = zip(service.nodes, state.records).filter { $0.1.tries > 0 }.map {
      OMFailoverReport.NodeOutcome(node: $0.0, tries: $0.1.tries, lastAnswer: $0.1.lastAnswer)
    }
    return OMFailoverReport(serviceID: service.serviceID, tries: state.tries, nodes: outcomes)
  }
}
