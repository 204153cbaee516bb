import Foundation
import O3RPC

/// Calls the OM admin methods with fuzzed JSON bodies and checks each call is answered: a JSON
/// reply, or an error with an admin code (upper case, e.g. MALFORMED_MESSAGE, or UNKNOWN_METHOD
/// for a method this build does not serve) and a message; only a body over the frame limit may
/// close the connection.
struct AdminFuzzer {
  /// Codes that would mean the RPC layer, not the admin service, refused a well-formed call.
  static let rpcLayerCodes: Set<String> = ["MALFORMED_REQUEST", "OVERLOADED", "RESPONSE_TOO_LARGE"]
  let target: any FuzzTarget
  let findings: FuzzFindings

  func run(iterations: Int, random: inout FuzzRandom) async throws {
    var client = try await target.rpcClient()
    for iteration in 0..<iterations where !findings.isFull {
      let method = random.pick(FramePorts.adminMethods)
      let body = AdminJSONMutator.body(random: &random)
      let oversized = body.count + 14 + method.utf8.count > target.maxFrameBytes
      do {
        let reply = try await client.call(method: method, payload: body, deadline: .seconds(60))
        findings.count("\(method) answered")
        if (try? JSONSerialization.jsonObject(with: Data(reply))) == nil {
          findings.fail(iteration, "\(method): a reply that is not JSON: \(FuzzFindings.hex(reply))", input: body)
        }
      } catch RPCError.remote(let code, let message) {
        findings.count("\(method) \(code)")
        let isAdminCode = !code.isEmpty && code.allSatisfy { $0.isUppercase || $0 == "_" }
        if !isAdminCode || Self.rpcLayerCodes.contains(code) || message.isEmpty {
          findings.fail(iteration, "\(method): refused with \(code) \(message)", input: body)
        }
      } catch RPCError.connectionClosed where oversized {
        findings.count("closed: frame over the limit")
        client = try await target.rpcClient()
      } catch {
        findings.fail(iteration, "\(method): the call failed: \(error)", input: body)
        client = try await target.rpcClient()
      }
    }
    await client.close()
  }
}
