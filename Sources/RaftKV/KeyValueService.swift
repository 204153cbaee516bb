import Foundation
import NIOCore
import O3RPC
import Raft
import RaftCore

/// The store's client protocol over O3RPC: `kv.put`, `kv.get` (linearizable), `kv.status`, and
/// `kv.peers` (tells the Raft transport where the other replicas listen).
public final class KeyValueService: RPCServiceHandler {
  private let raft: RaftServer
  private let transport: any RaftTransport
  private let raftStatistics: @Sendable () -> String

  public init(raft: RaftServer, transport: any RaftTransport, raftStatistics: @escaping @Sendable () -> String) {
    self.raft = raft
    self.transport = transport
    self.raftStatistics = raftStatistics
  }

  public func handle(method: String, payload: ByteBuffer, context: RPCCallContext, responder: RPCResponder) {
    let bytes = Array(payload.readableBytesView)
    switch method {
    case "kv.put":
      raft.propose(bytes) { Self.answer($0, responder) }
    case "kv.get":
      raft.query(bytes) { Self.answer($0, responder) }
    case "kv.peers":
      for (peer, address) in KeyValuePeers.parse(String(decoding: bytes, as: UTF8.self)) {
        transport.setAddress(address, of: peer)
      }
      responder.succeed(bytes: [])
    case "kv.status":
      let raft = self.raft
      let statistics = raftStatistics
      Task {
        let status = await raft.status()
        let text = status.map { status in
          "role=\(status.core.role.rawValue) leader=\(status.core.leader.map(\.description) ?? "none") "
            + "term=\(status.core.hardState.term) commit=\(status.core.hardState.commit) "
            + "applied=\(status.applied.index) ready=\(status.isLeaderReady) \(statistics())"
        }
        responder.succeed(bytes: Array((text ?? "stopped").utf8))
      }
    default:
      responder.fail(.unknownMethod(method))
    }
  }

  private static func answer(_ result: Result<[UInt8], RaftServerError>, _ responder: RPCResponder) {
    switch result {
    case .success(let response): responder.succeed(bytes: response)
    case .failure(let error): responder.fail(RPCRemoteError(code: error.code, message: error.leaderHint))
    }
  }
}

extension RaftServerError {
  /// The code a client switches on.
  var code: String {
    switch self {
    case .notLeader: "NOT_LEADER"
    case .leaderNotReady: "LEADER_NOT_READY"
    case .notCommitted: "NOT_COMMITTED"
    case .timeout: "TIMEOUT"
    case .stopped: "STOPPED"
    case .refused: "REFUSED"
    }
  }

  /// The leader's id as text, when this is a redirect.
  var leaderHint: String {
    if case .notLeader(let leader?) = self { return leader.description }
    return ""
  }
}

/// `1=127.0.0.1:9872,2=…`: peer ids with the addresses they listen on.
public enum KeyValuePeers {
  public static func parse(_ text: String) -> [(PeerID, String)] {
    text.split(separator: ",").compactMap { item in
      let parts = item.split(separator: "=", maxSplits: 1)
      guard parts.count == 2, let id = UInt64(parts[0]), id > 0 else { return nil }
      return (PeerID(id), String(parts[1]))
    }
  }

  public static func format(_ peers: [(PeerID, String)]) -> String {
    peers.map { "\($0.0)=\($0.1)" }.joined(separator: ",")
  }
}
