import NIOCore
import NIOPosix
import O3Common
import O3RPC
import OMProto
import OzoneClient
import Synchronization

/// What a fake OM does with one call.
enum FakeAnswer: Sendable {
  /// OK, with the answering node id as the volume owner so a test sees who answered.
  case ok
  /// NOT_LEADER naming `hint` as the leader (with an address), or no leader.
  case notLeader(hint: String?)
  case leaderNotReady
  case timeout
  /// Never answers: shuts this fake down, closing the connection under the call.
  case closeConnection
}

/// One call as a fake OM received it.
struct RecordedCall: Sendable, Equatable {
  var nodeID: String
  var clientID: String
  var callID: UInt64
  var cmdType: CommandType
}

/// Every call received by a set of fake OMs, in arrival order (calls in these tests are
/// sequential, so the order is the client's order).
final class CallLog: Sendable {
  private let calls = Mutex<[RecordedCall]>([])

  func append(_ call: RecordedCall) { calls.withLock { $0.append(call) } }
  var all: [RecordedCall] { calls.withLock { $0 } }
  var nodeIDs: [String] { all.map(\.nodeID) }
  func count(_ nodeID: String) -> Int { all.filter { $0.nodeID == nodeID }.count }
}

/// A stand-in for an OM: an O3RPC server answering `om.submitRequest` from a script indexed by
/// how many calls this node has received.
final class FakeOM: Sendable {
  let nodeID: String
  private let server: RPCServer
  private let handler: Handler

  private init(nodeID: String, server: RPCServer, handler: Handler) {
    self.nodeID = nodeID
    self.server = server
    self.handler = handler
  }

  static func start(
    _ nodeID: String, log: CallLog, port: Int = 0, script: @escaping @Sendable (_ callNumber: Int) -> FakeAnswer
  ) async throws -> FakeOM {
    let handler = Handler(nodeID: nodeID, log: log, script: script)
    let server = try await RPCServer.start(
      host: "127.0.0.1", port: port, handler: handler, group: MultiThreadedEventLoopGroup.singleton)
    handler.server.withLock { $0 = server }
    return FakeOM(nodeID: nodeID, server: server, handler: handler)
  }

  var port: Int { server.localPort }
  var node: OMNodeAddress { OMNodeAddress(nodeID: nodeID, address: HostAndPort(host: "127.0.0.1", port: port)) }

  func shutdown() async {
    try? await server.shutdown()
  }

  private final class Handler: RPCServiceHandler {
    let nodeID: String
    let log: CallLog
    let script: @Sendable (Int) -> FakeAnswer
    let received = Atomic<Int>(0)
    let server = Mutex<RPCServer?>(nil)

    init(nodeID: String, log: CallLog, script: @escaping @Sendable (Int) -> FakeAnswer) {
      self.nodeID = nodeID
      self.log = log
      self.script = script
    }

    func handle(method: String, payload: ByteBuffer, context: RPCCallContext, responder: RPCResponder) {
      guard method == "om.submitRequest", let request = try? OMRequest(serializedBytes: Array(payload.readableBytesView))
      else {
        responder.fail(RPCRemoteError(code: "FAKE_OM", message: "not an om.submitRequest call"))
        return
      }
      log.append(RecordedCall(nodeID: nodeID, clientID: request.clientID, callID: request.callID, cmdType: request.cmdType))
      var response = OMResponse()
      response.cmdType = request.cmdType
      switch script(received.add(1, ordering: .relaxed).oldValue) {
      case .ok:
        response.status = .ok
        var info = VolumeInfo()
        info.ownerName = nodeID
        response.infoVolumeResponse.volumeInfo = info
      case .notLeader(let hint):
        response.status = .notLeader
        response.message = "\(nodeID) is not the leader"
        response.leaderOmnodeID = hint ?? ""
        response.leaderAddress = hint.map { "\($0).example:9862" } ?? ""
      case .leaderNotReady:
        response.status = .leaderNotReady
        response.message = "\(nodeID) leads but is not ready"
      case .timeout:
        response.status = .timeout
        response.message = "no answer from Raft in time"
      case .closeConnection:
        let server = self.server.withLock { $0 }
        Task { try? await server?.shutdown() }
        return
      }
      responder.succeed(bytes: try! response.serializedBytes())
    }
  }
}

/// A node where no OM listens: port 1 refuses connections at once.
func downNode(_ nodeID: String) -> OMNodeAddress {
  OMNodeAddress(nodeID: nodeID, address: HostAndPort(host: "127.0.0.1", port: 1))
}

/// The configuration of service `omservice` over `nodes`, with tiny waits so tests stay fast.
func serviceConfiguration(_ nodes: [OMNodeAddress], maxAttempts: Int = 20) -> OzoneConfiguration {
  var configuration = OzoneConfiguration([
    "ozone.om.service.ids": "omservice",
    "ozone.om.nodes.omservice": nodes.map(\.nodeID).joined(separator: ","),
    "ozone.client.failover.max.attempts": "\(maxAttempts)",
    "ozone.client.wait.between.retries.millis": "1",
  ])
  for node in nodes {
    configuration["ozone.om.address.omservice.\(node.nodeID)"] = "\(node.address)"
  }
  return configuration
}
