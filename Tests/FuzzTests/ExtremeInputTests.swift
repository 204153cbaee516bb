import O3RPC
import OMProto
import RaftProto
import O3TestSupport
import Testing

/// Each class of bad input once, at its extreme, so that CI covers it whatever the fuzzers'
/// seeds draw: nesting far past any decoder's depth limit, negative and huge lengths, a flood of
/// calls past the outstanding-call bound.
@Suite(.watchdog, .serialized) struct ExtremeInputTests {
  /// A valid request followed by something no encoder would write.
  enum ExtremeRequest: String, CaseIterable, Sendable {
    case unbalancedGroups20000Deep, balancedGroups15000Deep, nestedMessages5000Deep, negativeCommandType
    case lengthOf2To63, keyNameOneOverTheLimit, invalidUTF8VolumeName

    var payload: [UInt8] {
      var random = FuzzRandom(seed: 3)
      let valid: [UInt8] = try! OMRequestCorpus.createVolume("fz-extreme", random: &random).serializedBytes()
      switch self {
      case .unbalancedGroups20000Deep: return valid + ProtobufWire.nestedGroups(field: 99, depth: 20_000, balanced: false)
      case .balancedGroups15000Deep: return valid + ProtobufWire.nestedGroups(field: 99, depth: 15_000, balanced: true)
      case .nestedMessages5000Deep: return valid + ProtobufWire.nestedLengthDelimited(field: 99, depth: 5_000)
      case .negativeCommandType: return valid + ProtobufWire.tag(1, ProtobufWire.varint) + ProtobufWire.encodeVarint(UInt64.max)
      case .lengthOf2To63:
        return ProtobufWire.tag(11, ProtobufWire.lengthDelimited) + ProtobufWire.encodeVarint(1 << 63) + valid
      case .keyNameOneOverTheLimit:
        var createKey = CreateKeyRequest()
        createKey.keyArgs = OMRequestCorpus.keyArgs(
          OMRequestCorpus.seedVolume, OMRequestCorpus.seedBucket, String(repeating: "k", count: 4_097))
        return try! OMRequestCorpus.envelope(.createKey, .createKeyRequest(createKey), random: &random).serializedBytes()
      case .invalidUTF8VolumeName:
        return valid.replacingFirst(Array("fz-extreme".utf8), with: [0x66, 0xC0, 0xAF] + Array("-extreme".utf8))
      }
    }
  }

  @Test(arguments: ExtremeRequest.allCases)
  func anExtremeRequestIsRefusedBeforeTheLog(_ request: ExtremeRequest) async throws {
    let om = try await InProcessOM.start("extreme")
    let payload = request.payload
    let verdict = OMRequestOracle.verdict(for: payload, limits: om.requestLimits)
    let (index, digest) = (try await om.lastLogIndex(), try await om.stateDigest())
    let client = try await om.rpcClient()
    let response = try OMResponse(
      serializedBytes: try await client.call(method: FramePorts.submitMethod, payload: payload, deadline: .seconds(60)))
    await client.close()
    let indexAfter = try await om.lastLogIndex()
    let digestAfter = try await om.stateDigest()
    let unchanged = indexAfter == index && digestAfter == digest
    await om.shutdown()
    guard case .refused(let status) = verdict else {
      Issue.record("\(request): the oracle admits it")
      return
    }
    #expect(response.status == status, "\(request): \(response.message)")
    #expect(unchanged, "\(request): the log or the tables changed")
    #expect(om.fatalErrors.recorded.isEmpty)
  }

  /// A million nested groups, and a million empty messages, in one Raft batch (2 MB each, well
  /// under the Raft port's frame limit): refused with a RAFT_ code, and the OM still leads.
  @Test func aRaftBatchNestedAMillionDeepIsRefused() async throws {
    let om = try await InProcessOM.start("extreme-raft")
    var message = RaftWireMessage()
    message.from = 99
    message.to = om.raftMembers[0]
    message.term = 1
    message.heartbeat.commit = 1
    var batch = RaftWireBatch()
    batch.messages = [message]
    let nested: [UInt8] = try batch.serializedBytes() + ProtobufWire.nestedGroups(field: 7, depth: 1_000_000, balanced: true)
    let empties: [UInt8] = (0..<2_000_000).map { $0 % 2 == 0 ? 0x0A : 0x00 }
    let client = try await RPCClient.connect(host: om.host, port: om.raftPort, group: om.group)
    var codes: [String] = []
    for payload in [nested, empties] {
      do {
        _ = try await client.call(method: FramePorts.raftMethod, payload: payload, deadline: .seconds(60))
        codes.append("accepted")
      } catch RPCError.remote(let code, _) {
        codes.append(code)
      }
    }
    await client.close()
    var random = FuzzRandom(seed: 4)
    let stillServes = try await om.submitValid(OMRequestCorpus.createVolume("fz-after", random: &random))
    await om.shutdown()
    #expect(codes.allSatisfy { $0.hasPrefix("RAFT_") }, "\(codes)")
    #expect(stillServes.status == .ok, "\(stillServes.message)")
  }

  /// 5000 admin calls in one write, more than the 4096 a connection may have outstanding: each
  /// gets exactly one reply (an answer or OVERLOADED) and the connection stays open.
  @Test func aFloodOfCallsIsBoundedAndEveryOneAnswered() async throws {
    let om = try await InProcessOM.start("extreme-flood")
    let calls = 5_000
    var stream: [UInt8] = []
    for callId in 1...UInt64(calls) { stream += O3RPCWire.request(callId: callId, method: Array("om.admin.roles".utf8), payload: []) }
    let connection = try await RawTCPConnection.connect(host: om.host, port: om.clientPort)
    await connection.send(stream)
    let answered = await connection.wait(timeout: .seconds(120)) { (O3RPCWire.replies($0)?.count ?? 0) >= calls }
    let replies = O3RPCWire.replies(connection.received) ?? []
    let closed = connection.closedByServer
    await connection.close()
    await om.shutdown()
    #expect(answered && !closed, "\(replies.count) of \(calls) calls answered; closed: \(closed)")
    #expect(Set(replies.map(\.callId)).count == calls, "one reply per call")
    #expect(replies.allSatisfy { $0.kind == 2 || ($0.kind == 3 && $0.name == "OVERLOADED") })
  }
}

extension Array where Element == UInt8 {
  func replacingFirst(_ pattern: [UInt8], with replacement: [UInt8]) -> [UInt8] {
    guard let range = firstRange(of: pattern) else { return self }
    var copy = self
    copy.replaceSubrange(range, with: replacement)
    return copy
  }
}
