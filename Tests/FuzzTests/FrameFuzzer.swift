/// One O3RPC port under frame fuzzing: how to generate its streams and what each reply must be.
struct FramePort {
  var name: String
  var port: Int
  var maxFrameBytes: Int
  var generator: FrameStreamGenerator
  /// What is wrong with `reply` as the answer to a well-formed request, or nil when it is right.
  var checkReply: (_ method: String, _ payload: [UInt8], _ reply: O3RPCWire.Reply) -> String?
  /// Whether the request may have changed the tables, given its reply (nil: none came).
  var mayWrite: (_ method: String, _ payload: [UInt8], _ reply: O3RPCWire.Reply?) -> Bool
  /// A reply in a few words, for failure messages.
  var describeReply: (O3RPCWire.Reply) -> String = { "\($0.kind)/\($0.name)" }
}

/// Sends fuzzed byte streams to an O3RPC port, one connection each, and holds the server to
/// `O3RPCStreamModel`:
///
/// * without a framing error, every complete frame gets exactly one reply, of the right kind
///   for its call id, and the connection stays open;
/// * after a framing error (a length over the limit, a frame too short for a call id) the server
///   closes the connection; replies that came before are still each for a frame that was sent;
/// * the tables change only where a reply says a write went through.
struct FrameFuzzer {
  let port: FramePort
  let target: any FuzzTarget
  let findings: FuzzFindings

  func run(connections: Int, random: inout FuzzRandom) async throws {
    for iteration in 0..<connections where !findings.isFull {
      let stream = port.generator.stream(random: &random)
      let model = O3RPCStreamModel(stream: stream, maxFrameBytes: port.maxFrameBytes)
      let digest = try await target.stateDigest()
      let connection = try await RawTCPConnection.connect(host: target.host, port: port.port)
      for chunk in Self.chunks(of: stream, random: &random) { await connection.send(chunk) }
      let expected = model.frames.count
      let settled = await connection.wait { received in
        model.fatalError == nil && (O3RPCWire.replies(received)?.count ?? Int.max) >= expected
      }
      let closed = connection.closedByServer
      let received = connection.received
      await connection.close()
      findings.count(model.fatalError == nil ? "\(port.name): kept open" : "\(port.name): closed for a framing error")
      findings.count("\(port.name): frames", by: expected)
      let replies = check(model, settled: settled, closed: closed, received: received, iteration: iteration, stream: stream)
      if model.fatalError != nil || !settled {
        // Calls whose replies were lost with the connection may still be in Raft.
        try await target.settleWrites()
      }
      if !wrote(model, replies: replies), try await target.stateDigest() != digest {
        let calls = replies.map { frame, reply in "\(Self.describe(frame)) → \(reply.map(port.describeReply) ?? "none")" }
        findings.fail(
          iteration, "\(port.name): no reply reported a write, yet the tables changed; calls: \(calls.joined(separator: "; "))",
          input: stream)
      }
    }
  }

  /// Checks the replies against the model; returns each frame's reply (nil where none came).
  private func check(
    _ model: O3RPCStreamModel, settled: Bool, closed: Bool, received: [UInt8], iteration: Int, stream: [UInt8]
  ) -> [(O3RPCStreamModel.Frame, O3RPCWire.Reply?)] {
    func fail(_ what: String) { findings.fail(iteration, "\(port.name): \(what)", input: stream) }
    if let fatal = model.fatalError, !closed { fail("not closed after a framing error (\(fatal))") }
    if model.fatalError == nil && !settled { fail("\(model.frames.count) frames, but not every one was answered") }
    if model.fatalError == nil && closed { fail("closed without a framing error") }
    guard let replies = O3RPCWire.replies(received) else {
      fail("the server sent bytes that are not reply frames: \(FuzzFindings.hex(received))")
      return []
    }
    var unanswered = model.frames
    var answered: [(O3RPCStreamModel.Frame, O3RPCWire.Reply?)] = []
    for reply in replies {
      guard let at = unanswered.firstIndex(where: { $0.callId == reply.callId }) else {
        fail("a reply for call \(reply.callId), which was not sent or was answered already")
        continue
      }
      let frame = unanswered.remove(at: at)
      let duplicate = model.frames.filter { $0.callId == frame.callId }.count > 1
      if let problem = Self.problem(with: reply, to: frame, duplicate: duplicate, port: port) {
        fail("call \(reply.callId): \(problem)")
      }
      answered.append((frame, reply))
    }
    if model.fatalError == nil && settled && !unanswered.isEmpty {
      fail("calls \(unanswered.map(\.callId).prefix(5)) got no reply")
    }
    return answered + unanswered.map { ($0, nil) }
  }

  private static func problem(
    with reply: O3RPCWire.Reply, to frame: O3RPCStreamModel.Frame, duplicate: Bool, port: FramePort
  ) -> String? {
    guard reply.kind == 2 || reply.kind == 3 else { return "a reply of kind \(reply.kind)" }
    guard reply.deadlineMilliseconds == 0 else { return "a reply with a deadline" }
    if reply.kind == 3 && reply.name.isEmpty { return "an error reply without a code" }
    // A call id reused while the first call is outstanding is refused as malformed; whether it
    // still was outstanding depends on timing.
    if duplicate && reply.kind == 3 && reply.name == "MALFORMED_REQUEST" { return nil }
    switch frame {
    case .malformed(_, let reason):
      return reply.kind == 3 && reply.name == "MALFORMED_REQUEST" ? nil : "\(reason): expected MALFORMED_REQUEST"
    case .request(_, let method, let payload):
      return port.checkReply(method, payload, reply)
    }
  }

  private func wrote(_ model: O3RPCStreamModel, replies: [(O3RPCStreamModel.Frame, O3RPCWire.Reply?)]) -> Bool {
    replies.contains { frame, reply in
      guard case .request(_, let method, let payload) = frame else { return false }
      return port.mayWrite(method, payload, reply)
    }
  }

  private static func describe(_ frame: O3RPCStreamModel.Frame) -> String {
    switch frame {
    case .malformed(let callId, let reason): "\(callId) malformed (\(reason))"
    case .request(let callId, let method, let payload): "\(callId) \(method) \(FuzzFindings.hex(payload, limit: 24))"
    }
  }

  /// The stream cut into 1 to 4 pieces, so that frames also arrive split across reads.
  static func chunks(of stream: [UInt8], random: inout FuzzRandom) -> [[UInt8]] {
    guard stream.count > 1 else { return [stream] }
    var cuts = (0..<random.int(0...3)).map { _ in random.int(1...stream.count - 1) }
    cuts = Array(Set(cuts)).sorted()
    var pieces: [[UInt8]] = []
    var start = 0
    for cut in cuts + [stream.count] {
      pieces.append(Array(stream[start..<cut]))
      start = cut
    }
    return pieces
  }
}
