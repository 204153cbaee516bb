import Foundation
import OMDomain
import OMProto
import OzoneManager

/// The two O3RPC ports of an OM as the frame fuzzer sees them.
enum FramePorts {
  static let submitMethod = "om.submitRequest"
  static let raftMethod = "raft.messages"
  /// Admin methods, served or not by this build (an unserved one must be UNKNOWN_METHOD).
  static let adminMethods = [
    "om.admin.roles", "om.admin.transfer", "om.admin.configuration", "om.admin.bootstrap", "om.admin.decommission",
  ]

  /// The client port (9862): the OM protocol and the admin methods.
  static func client(_ target: any FuzzTarget) -> FramePort {
    let limits = target.requestLimits
    var methods: [(name: String, payload: (inout FuzzRandom) -> [UInt8])] = [
      (submitMethod, { OMRequestMutator.payload(random: &$0).bytes }),
      (submitMethod, { try! OMRequestCorpus.request(random: &$0).serializedBytes() }),
      (raftMethod, { RaftBatchMutator.batch(members: target.raftMembers, recipient: nil, random: &$0).bytes }),
    ]
    for method in adminMethods { methods.append((method, { AdminJSONMutator.body(random: &$0) })) }
    return FramePort(
      name: "client port", port: target.clientPort, maxFrameBytes: target.maxFrameBytes,
      generator: FrameStreamGenerator(methods: methods, maxFrameBytes: target.maxFrameBytes),
      checkReply: { method, payload, reply in checkClientReply(method, payload, reply, limits: limits) },
      mayWrite: { method, payload, reply in
        guard method == submitMethod, OMRequestOracle.verdict(for: payload, limits: limits) == .admissible(isWrite: true)
        else { return false }
        guard let reply else { return true }
        return (try? OMResponse(serializedBytes: reply.payload)).map { OMRequestFuzzer.mayHaveWritten($0.status) } ?? false
      },
      describeReply: { reply in
        guard reply.kind == 2, let response = try? OMResponse(serializedBytes: reply.payload) else {
          return "\(reply.kind)/\(reply.name)"
        }
        return "\(response.cmdType) \(response.status)"
      })
  }

  /// The Raft port (9872): fuzzed batches from peers that are not members of the group.
  static func raft(_ target: any FuzzTarget, maxFrameBytes: Int) -> FramePort {
    let members = target.raftMembers
    let methods: [(name: String, payload: (inout FuzzRandom) -> [UInt8])] = [
      (raftMethod, { RaftBatchMutator.batch(members: members, recipient: members.first, random: &$0).bytes }),
      (submitMethod, { try! OMRequestCorpus.request(random: &$0).serializedBytes() }),
    ]
    return FramePort(
      name: "raft port", port: target.raftPort, maxFrameBytes: maxFrameBytes,
      generator: FrameStreamGenerator(methods: methods, maxFrameBytes: maxFrameBytes),
      checkReply: { method, _, reply in
        guard method == raftMethod else { return expectUnknownMethod(reply) }
        if reply.kind == 2 { return reply.payload.isEmpty ? nil : "a Raft batch answered with a payload" }
        return reply.name.hasPrefix("RAFT_") ? nil : "a Raft batch refused with \(reply.name), not a RAFT_ code"
      },
      mayWrite: { _, _, _ in false })
  }

  private static func checkClientReply(
    _ method: String, _ payload: [UInt8], _ reply: O3RPCWire.Reply, limits: OMRequestLimits
  ) -> String? {
    if adminMethods.contains(method) {
      guard reply.kind == 2 else { return nil }
      return (try? JSONSerialization.jsonObject(with: Data(reply.payload))) == nil ? "an admin reply that is not JSON" : nil
    }
    guard method == submitMethod else { return expectUnknownMethod(reply) }
    guard reply.kind == 2, let response = try? OMResponse(serializedBytes: reply.payload) else {
      return "om.submitRequest answered \(reply.kind == 3 ? reply.name : "bytes that are not an OMResponse")"
    }
    if response.status != .ok && response.message.isEmpty { return "status \(response.status) without a message" }
    if case .refused(let status) = OMRequestOracle.verdict(for: payload, limits: limits), status != response.status {
      return "expected \(status), got \(response.status): \(response.message)"
    }
    return nil
  }

  private static func expectUnknownMethod(_ reply: O3RPCWire.Reply) -> String? {
    reply.kind == 3 && reply.name == "UNKNOWN_METHOD" ? nil : "an unknown method answered \(reply.kind)/\(reply.name)"
  }
}
