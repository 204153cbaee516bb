import Foundation
import NIOCore
import NIOPosix
import O3Common
import O3RPC
import OMProto
import Synchronization
import SwiftProtobuf

/// A connection to an Ozone Manager speaking the OM client protocol.
///
/// Every call carries this client's id and a fresh call id; a write is sent once (retries with a
/// stable call id arrive with the server's retry cache, together with HA).
public final class OzoneClient: Sendable {
  public let address: HostAndPort
  public let userName: String
  public let clientID: String
  private let rpc: RPCClient
  private let nextCallID = Atomic<UInt64>(1)
  private let callTimeout: TimeAmount

  private init(address: HostAndPort, userName: String, rpc: RPCClient, callTimeout: TimeAmount) {
    self.address = address
    self.userName = userName
    self.rpc = rpc
    self.callTimeout = callTimeout
    self.clientID = UUID().uuidString.lowercased()
  }

  /// Connects to the OM at `address`, acting as `userName`.
  public static func connect(
    to address: HostAndPort, userName: String, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
    callTimeout: TimeAmount = .seconds(60)
  ) async throws -> OzoneClient {
    do {
      let rpc = try await RPCClient.connect(host: address.host, port: address.port, group: group)
      return OzoneClient(address: address, userName: userName, rpc: rpc, callTimeout: callTimeout)
    } catch {
      throw OzoneClientError.transport("\(address): \(error)")
    }
  }

  public func close() async {
    await rpc.close()
  }

  /// Sends one request and returns the OM's response whatever its status.
  public func submit(_ request: OMRequest) async throws -> OMResponse {
    var request = request
    request.clientID = clientID
    request.callID = nextCallID.add(1, ordering: .relaxed).oldValue
    if request.userInfo.userName.isEmpty { request.userInfo.userName = userName }
    let reply: [UInt8]
    do {
      reply = try await rpc.call(method: "om.submitRequest", payload: try request.serializedBytes(), deadline: callTimeout)
    } catch {
      throw OzoneClientError.transport("\(address): \(error)")
    }
    do {
      return try OMResponse(serializedBytes: reply)
    } catch {
      throw OzoneClientError.malformedResponse("\(error)")
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
}
