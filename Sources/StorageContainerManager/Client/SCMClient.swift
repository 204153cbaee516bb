import Foundation
import NIOCore
import O3Common
import O3RPC
import O3Service
import SCMProto
import SwiftProtobuf

/// A client of an SCM service's admin and block protocols that finds the leader: it tries the
/// configured SCMs in order and follows an `SCM_NOT_LEADER` answer's leader address, for a few
/// rounds (Ozone's SCMFailoverProxyProvider, shorter). Every call opens a connection of its own.
public struct SCMClient: Sendable {
  public struct Failure: Error, CustomStringConvertible, Sendable {
    public var description: String
  }

  /// Where the protocol is served, one address per SCM.
  public var addresses: [HostAndPort]
  public var group: any EventLoopGroup
  public var rounds = 5
  public var retryInterval: Duration = .milliseconds(500)
  public var callTimeout: Duration = .seconds(30)
  /// Whether a refusal naming the leader sends the call there (false: it is the answer).
  public var followsLeader = true

  public init(addresses: [HostAndPort], group: any EventLoopGroup) {
    self.addresses = addresses
    self.group = group
  }

  /// The admin protocol's addresses of every SCM `configuration` names.
  public static func adminAddresses(_ configuration: OzoneConfiguration) throws -> [HostAndPort] {
    try SCMServiceConfiguration(configuration: configuration, requireLocalNode: false).nodes.map(\.clientAddress)
  }

  /// The block protocol's addresses of every SCM `configuration` names.
  public static func blockAddresses(_ configuration: OzoneConfiguration) throws -> [HostAndPort] {
    try SCMServiceConfiguration(configuration: configuration, requireLocalNode: false).nodes.map(\.blockAddress)
  }

  public func admin(_ request: SCMAdminRequest) async throws(Failure) -> SCMAdminResponse {
    try await call(SCMAdminService.submitMethod, request) { (response: SCMAdminResponse) in
      response.status == .scmNotLeader ? response.leaderAddress : nil
    }
  }

  public func block(_ request: SCMBlockLocationRequest) async throws(Failure) -> SCMBlockLocationResponse {
    try await call(SCMBlockService.submitMethod, request) { (response: SCMBlockLocationResponse) in
      response.status == .scmNotLeader ? response.leaderAddress : nil
    }
  }

  /// Sends `request` until an SCM answers with something other than "not the leader" (returned
  /// as it is, refusals included), or the rounds are spent.
  private func call<Response: SwiftProtobuf.Message>(
    _ method: String, _ request: some SwiftProtobuf.Message, leaderHint: (Response) -> String?
  ) async throws(Failure) -> Response {
    let payload: [UInt8]
    do {
      payload = try request.serializedBytes()
    } catch {
      throw Failure(description: "cannot encode the request: \(error)")
    }
    var lastProblem = "no SCM address is configured"
    var lastRefusal: Response?
    for round in 0..<rounds {
      if round > 0 { try? await Task.sleep(for: retryInterval) }
      var targets = addresses
      var index = 0
      while index < targets.count {
        let target = RaftGroupHost.dialable(targets[index])
        index += 1
        let reply: [UInt8]
        do {
          reply = try await exchange(target, method, payload)
        } catch {
          lastProblem = "\(target): \(error)"
          continue
        }
        let response: Response
        do {
          response = try Response(serializedBytes: reply)
        } catch {
          throw Failure(description: "\(target) answered with bytes that are not the protocol's: \(error)")
        }
        guard followsLeader, let hint = leaderHint(response) else { return response }
        lastRefusal = response
        lastProblem = "\(target) is not the leader"
        // Go to the leader next, if it named one this round has not tried yet.
        if let leader = Self.parse(hint), !targets[..<index].contains(leader) { targets.insert(leader, at: index) }
      }
    }
    if let lastRefusal { return lastRefusal }
    throw Failure(description: "cannot reach the SCM: \(lastProblem)")
  }

  private func exchange(_ target: HostAndPort, _ method: String, _ payload: [UInt8]) async throws(Failure) -> [UInt8] {
    let deadline = TimeAmount.nanoseconds(Int64(callTimeout.components.seconds) * 1_000_000_000)
    let client: RPCClient
    do {
      client = try await RPCClient.connect(host: target.host, port: target.port, group: group, connectTimeout: .seconds(5))
    } catch {
      throw Failure(description: ConnectionFailure.describe(error))
    }
    do {
      let reply = try await client.call(method: method, payload: payload, deadline: deadline)
      await client.close()
      return reply
    } catch {
      await client.close()
      throw Failure(description: ConnectionFailure.describe(error))
    }
  }

  private static func parse(_ text: String) -> HostAndPort? {
    guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]) else { return nil }
    return HostAndPort(host: String(text[..<colon]), port: port)
  }
}
