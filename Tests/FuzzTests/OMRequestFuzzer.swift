import O3RPC
import OMProto

/// Sends fuzzed `om.submitRequest` payloads one at a time and checks each answer:
///
/// * every payload gets an `OMResponse` (never an RPC error, never silence); only a payload over
///   the frame limit may instead close the connection, and that is counted;
/// * a payload the oracle refuses gets exactly the oracle's status and a message, and leaves the
///   log and the tables as they were;
/// * any other refused payload, and every read, leaves the tables as they were; only a write
///   answered OK (or PARTIAL_DELETE, which deleted some of its keys) may change them.
struct OMRequestFuzzer {
  static let method = "om.submitRequest"
  /// Frame header bytes besides the payload: fixed fields and the method name.
  static let frameOverheadBytes = 14 + method.utf8.count

  let target: any FuzzTarget
  let findings: FuzzFindings

  func run(iterations: Int, random: inout FuzzRandom) async throws {
    var client = try await target.rpcClient()
    var digest = try await target.stateDigest()
    for iteration in 0..<iterations where !findings.isFull {
      let payload = OMRequestMutator.payload(random: &random)
      let verdict = OMRequestOracle.verdict(for: payload.bytes, limits: target.requestLimits)
      let indexBefore = try await target.lastLogIndex()
      let response: OMResponse
      switch await send(payload, on: client, iteration: iteration) {
      case .answered(let answer):
        response = answer
      case .closedAsTooLarge:
        await client.close()
        client = try await target.rpcClient()
        digest = try await expectUnchanged(digest, indexBefore, iteration, payload, "after closing for an oversized frame")
        continue
      case .failed:
        await client.close()
        client = try await target.rpcClient()
        continue
      }
      findings.count("\(verdictName(verdict))→\(response.status == .ok ? "ok" : "refused")")
      if response.status != .ok && response.message.isEmpty {
        findings.fail(iteration, "status \(response.status) came without a message", input: payload.bytes)
      }
      switch verdict {
      case .refused(let status):
        if response.status != status {
          findings.fail(
            iteration, "\(payload.mutation): expected \(status), got \(response.status) \(response.message)", input: payload.bytes)
        }
        digest = try await expectUnchanged(digest, indexBefore, iteration, payload, "refused before the log")
      case .admissible(let isWrite):
        if isWrite && Self.mayHaveWritten(response.status) {
          digest = try await target.stateDigest()
        } else if try await target.stateDigest() != digest {
          findings.fail(iteration, "\(payload.mutation): answered \(response.status) but the tables changed", input: payload.bytes)
          digest = try await target.stateDigest()
        }
      }
    }
    await client.close()
  }

  /// The statuses of a write that changed the tables: OK, and PARTIAL_DELETE (some keys went).
  static func mayHaveWritten(_ status: Status) -> Bool { status == .ok || status == .partialDelete }

  private enum Outcome {
    case answered(OMResponse)
    case closedAsTooLarge
    case failed
  }

  private func send(_ payload: OMRequestMutator.Payload, on client: RPCClient, iteration: Int) async -> Outcome {
    let oversized = payload.bytes.count + Self.frameOverheadBytes > target.maxFrameBytes
    do {
      let reply = try await client.call(method: Self.method, payload: payload.bytes, deadline: .seconds(60))
      if oversized {
        findings.fail(iteration, "a frame over the limit was answered", input: payload.bytes)
      }
      guard let response = try? OMResponse(serializedBytes: reply) else {
        findings.fail(iteration, "the reply is not an OMResponse: \(FuzzFindings.hex(reply))", input: payload.bytes)
        return .failed
      }
      return .answered(response)
    } catch RPCError.connectionClosed where oversized {
      findings.count("closed: frame over the limit")
      return .closedAsTooLarge
    } catch {
      findings.fail(iteration, "\(payload.mutation): the call failed: \(error)", input: payload.bytes)
      return .failed
    }
  }

  /// Checks the log and the tables did not change; returns the tables' digest now.
  private func expectUnchanged(
    _ digest: UInt64, _ indexBefore: UInt64, _ iteration: Int, _ payload: OMRequestMutator.Payload, _ context: String
  ) async throws -> UInt64 {
    if try await target.lastLogIndex() != indexBefore {
      findings.fail(iteration, "\(payload.mutation): \(context), yet the log grew", input: payload.bytes)
    }
    let now = try await target.stateDigest()
    if now != digest {
      findings.fail(iteration, "\(payload.mutation): \(context), yet the tables changed", input: payload.bytes)
    }
    return now
  }

  private func verdictName(_ verdict: OMRequestOracle.Verdict) -> String {
    switch verdict {
    case .refused: "invalid"
    case .admissible(isWrite: true): "write"
    case .admissible(isWrite: false): "read"
    }
  }
}
