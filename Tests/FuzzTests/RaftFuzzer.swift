import NIOPosix
import O3RPC
import RaftProto

/// Sends fuzzed `raft.messages` batches from strangers to the Raft ports of a group and checks
/// each is answered with a RAFT_ error code (only a batch without messages may succeed, with an
/// empty reply), never with a closed connection.
struct RaftFuzzer {
  static let method = "raft.messages"
  /// Each member's Raft port.
  let ports: [UInt64: Int]
  let findings: FuzzFindings

  func run(iterations: Int, random: inout FuzzRandom) async throws {
    var clients: [Int: RPCClient] = [:]
    for iteration in 0..<iterations where !findings.isFull {
      let recipient = random.pick(ports.keys.sorted())
      let port = ports[recipient]!
      let batch = RaftBatchMutator.batch(members: ports.keys.sorted(), recipient: recipient, random: &random)
      let client: RPCClient
      if let open = clients[port] {
        client = open
      } else {
        client = try await RPCClient.connect(host: "127.0.0.1", port: port, group: FuzzEventLoops.group)
        clients[port] = client
      }
      do {
        let reply = try await client.call(method: Self.method, payload: batch.bytes, deadline: .seconds(60))
        findings.count(batch.mutated ? "mutated batch accepted" : "batch accepted")
        if !reply.isEmpty { findings.fail(iteration, "a batch answered with \(reply.count) bytes", input: batch.bytes) }
        let messages = (try? RaftWireBatch(serializedBytes: batch.bytes))?.messages.count ?? 0
        if messages > 0 {
          findings.fail(iteration, "a stranger's batch of \(messages) messages was accepted", input: batch.bytes)
        }
      } catch RPCError.remote(let code, _) where code.hasPrefix("RAFT_") {
        findings.count("refused \(code)")
      } catch {
        findings.fail(iteration, "the batch was not answered with a RAFT_ code: \(error)", input: batch.bytes)
        await client.close()
        clients[port] = nil
      }
    }
    for client in clients.values { await client.close() }
  }
}
