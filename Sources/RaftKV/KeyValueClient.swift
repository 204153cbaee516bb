import Foundation
import NIOCore
import O3RPC
import RaftCore
import Synchronization

/// What happened to one client operation.
public enum KeyValueOutcome: Sendable, Equatable {
  /// Done: the put was applied, or the read returned this value (nil: absent).
  case ok(String?)
  /// Certainly not applied (refused before it reached the log, or overwritten uncommitted).
  case failed(String)
  /// May or may not have been applied (timed out, or the connection dropped after sending).
  case unknown(String)
}

/// A client of the replicated key-value store that finds the leader itself: it follows
/// NOT_LEADER hints, retries refusals that certainly changed nothing, and never retries an
/// operation whose fate is unknown (a retry could apply it twice).
///
/// One client talks to one group: with `raftGroup` set, to that group of replicas that host
/// several (its methods carry the `@<n>` suffix).
public final class KeyValueClient: Sendable {
  private let servers: [PeerID: (host: String, port: Int)]
  private let group: any EventLoopGroup
  private let connections = Mutex<[PeerID: RPCClient]>([:])
  private let leader: Mutex<PeerID>
  private let callTimeout: TimeAmount
  /// Appended to every method: "" or "@<group>".
  private let methodSuffix: String

  public init(
    servers: [PeerID: (host: String, port: Int)], group: any EventLoopGroup, callTimeout: TimeAmount = .seconds(10),
    raftGroup: Int? = nil
  ) {
    precondition(!servers.isEmpty)
    self.servers = servers
    self.group = group
    self.callTimeout = callTimeout
    self.leader = Mutex(servers.keys.min()!)
    methodSuffix = raftGroup.map { "@\($0)" } ?? ""
  }

  public func put(_ key: String, _ value: String, retryForSeconds: Double = 30) async -> KeyValueOutcome {
    let outcome = await call("kv.put", KeyValueCommand.encodePut(key, value), retryForSeconds: retryForSeconds)
    if case .ok = outcome { return .ok(value) }
    return outcome
  }

  public func get(_ key: String, retryForSeconds: Double = 30) async -> KeyValueOutcome {
    await call("kv.get", Array(key.utf8), retryForSeconds: retryForSeconds)
  }

  /// Asks the leader to hand leadership to `target`; `.ok` once the transfer started (the target
  /// leads shortly after, when it has caught up).
  public func transferLeadership(to target: PeerID, retryForSeconds: Double = 30) async -> KeyValueOutcome {
    await call("kv.transfer", Array(target.description.utf8), retryForSeconds: retryForSeconds)
  }

  /// A server's status line (role, term, commit, applied, log syncs).
  public func status(of peer: PeerID) async throws -> String {
    let client = try await connection(to: peer)
    let reply = try await client.call(method: "kv.status" + methodSuffix, payload: [], deadline: callTimeout)
    return String(decoding: reply, as: UTF8.self)
  }

  public func close() async {
    for client in connections.withLock({ Array($0.values) }) { await client.close() }
  }

  private func call(_ method: String, _ payload: [UInt8], retryForSeconds: Double) async -> KeyValueOutcome {
    let deadline = Date().addingTimeInterval(retryForSeconds)
    var lastRefusal = "no attempt"
    while Date() < deadline {
      let target = leader.withLock { $0 }
      let client: RPCClient
      do {
        client = try await connection(to: target)
      } catch {
        lastRefusal = "cannot connect to \(target): \(ConnectionFailure.describe(error))"
        moveToNextServer(after: target)
        continue
      }
      do {
        let reply = try await client.call(method: method + methodSuffix, payload: payload, deadline: callTimeout)
        return method == "kv.get" ? (KeyValueCommand.decodeValue(reply).map { .ok($0) } ?? .unknown("bad reply")) : .ok(nil)
      } catch RPCError.remote(let code, let message) {
        lastRefusal = "\(code) from \(target)"
        switch code {
        case "NOT_LEADER":
          if let hint = UInt64(message), servers[PeerID(hint)] != nil {
            leader.withLock { $0 = PeerID(hint) }
          } else {
            moveToNextServer(after: target)
            try? await Task.sleep(for: .milliseconds(20))
          }
        case "LEADER_NOT_READY", "REFUSED":
          try? await Task.sleep(for: .milliseconds(10))
        case "NOT_COMMITTED":
          return .failed(lastRefusal)
        default:
          return .unknown(lastRefusal)
        }
      } catch RPCError.connectFailed(_, let reason) {
        lastRefusal = reason
        moveToNextServer(after: target)
      } catch {
        // Sent, but the answer was lost: the operation may have been applied.
        dropConnection(to: target)
        moveToNextServer(after: target)
        return .unknown("\(error)")
      }
    }
    return .failed("gave up: \(lastRefusal)")
  }

  private func connection(to peer: PeerID) async throws -> RPCClient {
    if let existing = connections.withLock({ $0[peer] }), existing.isActive { return existing }
    let server = servers[peer]!
    let client = try await RPCClient.connect(host: server.host, port: server.port, group: group, connectTimeout: .seconds(2))
    connections.withLock { $0[peer] = client }
    return client
  }

  private func dropConnection(to peer: PeerID) {
    _ = connections.withLock { $0.removeValue(forKey: peer) }
  }

  private func moveToNextServer(after peer: PeerID) {
    let ordered = servers.keys.sorted()
    let next = ordered[((ordered.firstIndex(of: peer) ?? 0) + 1) % ordered.count]
    leader.withLock { $0 = next }
  }
}
