import Foundation
import NIOCore
import O3RPC
import Raft
import RaftCore

/// The store's client protocol over O3RPC: `kv.put`, `kv.get` (linearizable), `kv.status`,
/// `kv.transfer` (hands leadership to the peer id in the payload), and `kv.peers` (tells the Raft
/// transport where the other replicas listen).
///
/// A replica may host several groups (one store each, behind one Raft port): `kv.put@3` is a put
/// in group 3; a method without a suffix is group 1's. A group not hosted is refused with
/// `UNKNOWN_GROUP`.
public final class KeyValueService: RPCServiceHandler {
  private let groups: [Int: RaftServer]
  private let setAddress: @Sendable (PeerID, String) -> Void
  private let raftStatistics: @Sendable () -> String

  /// A replica of one group on its own transport.
  public convenience init(raft: RaftServer, transport: any RaftTransport, raftStatistics: @escaping @Sendable () -> String) {
    self.init(groups: [1: raft], setAddress: { transport.setAddress($1, of: $0) }, raftStatistics: raftStatistics)
  }

  /// A replica of several groups, numbered from 1; `setAddress` tells every group's transport.
  public init(
    groups: [Int: RaftServer], setAddress: @escaping @Sendable (PeerID, String) -> Void,
    raftStatistics: @escaping @Sendable () -> String
  ) {
    self.groups = groups
    self.setAddress = setAddress
    self.raftStatistics = raftStatistics
  }

  public func handle(method: String, payload: ByteBuffer, context: RPCCallContext, responder: RPCResponder) {
    let bytes = Array(payload.readableBytesView)
    let (name, group) = Self.split(method)
    if name == "kv.peers" {
      for (peer, address) in KeyValuePeers.parse(String(decoding: bytes, as: UTF8.self)) {
        setAddress(peer, address)
      }
      responder.succeed(bytes: [])
      return
    }
    guard let group, let raft = groups[group] else {
      responder.fail(RPCRemoteError(code: "UNKNOWN_GROUP", message: "this replica hosts no group named by \(method)"))
      return
    }
    switch name {
    case "kv.put":
      raft.propose(bytes) { Self.answer($0, responder) }
    case "kv.get":
      raft.query(bytes) { Self.answer($0, responder) }
    case "kv.transfer":
      guard let target = UInt64(String(decoding: bytes, as: UTF8.self)), target > 0 else {
        responder.fail(RPCRemoteError(code: "BAD_REQUEST", message: "kv.transfer takes a peer id above 0"))
        return
      }
      Task { Self.answer(await Self.transfer(raft, to: PeerID(target)), responder) }
    case "kv.status":
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

  /// `kv.put@3` → ("kv.put", 3); no suffix is group 1; a suffix that is not a number, nil.
  static func split(_ method: String) -> (name: String, group: Int?) {
    guard let at = method.firstIndex(of: "@") else { return (method, 1) }
    return (String(method[..<at]), Int(method[method.index(after: at)...]))
  }

  private static func transfer(_ raft: RaftServer, to target: PeerID) async -> Result<[UInt8], RaftServerError> {
    do throws(RaftServerError) {
      try await raft.transferLeadership(to: target)
      return .success([])
    } catch {
      return .failure(error)
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
