import O3Common
import O3RPC
import OMProto
import OzoneClient
import O3TestSupport
import Testing

/// The client against fake OMs over real TCP: who it calls, in which order, with which ids.
/// Waits are configured to 1 ms; nothing here measures time.
@Suite(.watchdog) struct FailoverTests {
  /// Starts one fake per script; a nil script stands for a node that is down.
  private func cluster(_ scripts: [(String, (@Sendable (Int) -> FakeAnswer)?)], log: CallLog) async throws
    -> (fakes: [FakeOM], nodes: [OMNodeAddress])
  {
    var fakes: [FakeOM] = []
    var nodes: [OMNodeAddress] = []
    for (nodeID, script) in scripts {
      guard let script else {
        nodes.append(downNode(nodeID))
        continue
      }
      let fake = try await FakeOM.start(nodeID, log: log, script: script)
      fakes.append(fake)
      nodes.append(fake.node)
    }
    return (fakes, nodes)
  }

  private func client(_ nodes: [OMNodeAddress], maxAttempts: Int = 20) async throws -> OzoneClient {
    try await OzoneClient.connect(configuration: serviceConfiguration(nodes, maxAttempts: maxAttempts), userName: "alice")
  }

  private func stop(_ client: OzoneClient, _ fakes: [FakeOM]) async {
    await client.close()
    for fake in fakes { await fake.shutdown() }
  }

  @Test func aHintedLeaderIsCalledDirectlyAndStaysCurrent() async throws {
    let log = CallLog()
    let (fakes, nodes) = try await cluster(
      [("om1", { _ in .notLeader(hint: "om3") }), ("om2", { _ in .ok }), ("om3", { _ in .ok })], log: log)
    let client = try await client(nodes)
    #expect(try await client.volumeInfo("vol1").ownerName == "om3")
    #expect(log.nodeIDs == ["om1", "om3"])
    #expect(client.currentNode.nodeID == "om3")
    #expect(try await client.volumeInfo("vol1").ownerName == "om3")
    #expect(log.nodeIDs == ["om1", "om3", "om3"])
    await stop(client, fakes)
  }

  @Test func withoutAUsableHintTheNextNodeIsTriedRoundRobin() async throws {
    let log = CallLog()
    let (fakes, nodes) = try await cluster(
      [
        ("om1", { _ in .notLeader(hint: nil) }), ("om2", { _ in .notLeader(hint: "om9") }),
        ("om3", { _ in .notLeader(hint: "om3") }), ("om4", { _ in .ok }),
      ], log: log)
    let client = try await client(nodes)
    // om9 is not configured and om3 naming itself is no news: both mean "ask the next one".
    #expect(try await client.volumeInfo("vol1").ownerName == "om4")
    #expect(log.nodeIDs == ["om1", "om2", "om3", "om4"])
    await stop(client, fakes)
  }

  @Test func leaderNotReadyRetriesTheSameNode() async throws {
    let log = CallLog()
    let (fakes, nodes) = try await cluster(
      [("om1", { $0 < 3 ? .leaderNotReady : .ok }), ("om2", { _ in .ok }), ("om3", { _ in .ok })], log: log)
    let client = try await client(nodes)
    #expect(try await client.volumeInfo("vol1").ownerName == "om1")
    #expect(log.count("om1") == 4)
    #expect(log.count("om2") == 0 && log.count("om3") == 0)
    await stop(client, fakes)
  }

  @Test func aNodeThatIsDownIsPassedOver() async throws {
    let log = CallLog()
    let (fakes, nodes) = try await cluster([("om1", nil), ("om2", { _ in .ok })], log: log)
    let client = try await client(nodes)
    #expect(try await client.volumeInfo("vol1").ownerName == "om2")
    #expect(try await client.volumeInfo("vol1").ownerName == "om2")
    #expect(log.nodeIDs == ["om2", "om2"])
    await stop(client, fakes)
  }

  @Test func spentRetriesEndInAnErrorNamingEveryOMTried() async throws {
    let log = CallLog()
    let (fakes, nodes) = try await cluster(
      [("om1", { _ in .notLeader(hint: nil) }), ("om2", nil), ("om3", { _ in .leaderNotReady })], log: log)
    let client = try await client(nodes, maxAttempts: 5)
    let error = try await #require(throws: OzoneClientError.self) { try await client.volumeInfo("vol1") }
    guard case .failoverExhausted(let report) = error else {
      Issue.record("expected failoverExhausted, got \(error)")
      return
    }
    // om1 once, om2 once (refused), then om3 until the five retries are spent.
    #expect(report.serviceID == "omservice")
    #expect(report.tries == 6)
    #expect(report.nodes.map(\.node.nodeID) == ["om1", "om2", "om3"])
    #expect(report.nodes.map(\.tries) == [1, 1, 4])
    #expect(log.nodeIDs == ["om1", "om3", "om3", "om3", "om3"])
    let message = error.description
    for expected in ["omservice", "6 tries", "om1", "om2 (127.0.0.1:1)", "om3", "NOT_LEADER", "LEADER_NOT_READY", "unreachable"] {
      #expect(message.contains(expected), "\(expected) missing from: \(message)")
    }
    await stop(client, fakes)
  }

  @Test func everyRetryOfACallCarriesTheSameClientAndCallID() async throws {
    let log = CallLog()
    let (fakes, nodes) = try await cluster(
      [
        ("om1", { $0 == 0 ? .leaderNotReady : .notLeader(hint: "om2") }),
        ("om2", { _ in .closeConnection }),
        ("om3", { $0 == 0 ? .timeout : .ok }),
      ], log: log)
    let client = try await client(nodes)
    try await client.createVolume("vol1")
    // om1 not ready, om1 points at om2, om2 drops the call, om3 times out, om1 again points at
    // om2 (now down), om3 answers.
    #expect(log.nodeIDs == ["om1", "om1", "om2", "om3", "om1", "om3"])
    let first = try #require(log.all.first)
    #expect(first.cmdType == .createVolume)
    #expect(first.clientID == client.clientID)
    #expect(log.all.allSatisfy { $0.clientID == first.clientID && $0.callID == first.callID })
    try await client.createVolume("vol2")
    let second = try #require(log.all.last)
    #expect(second.clientID == first.clientID)
    #expect(second.callID != first.callID)
    await stop(client, fakes)
  }

  @Test func aSingleOMClientReconnectsAfterTheOMRestarts() async throws {
    let log = CallLog()
    // A port from the test registry, not the kernel's: a kernel-chosen (ephemeral) port may be
    // taken by any outgoing connection while the OM is down, and the restart then cannot bind
    // it (seen once in a fresh-clone run: "Address already in use").
    let port = try FreePorts.allocate(1)[0]
    let first = try await FakeOM.start("om1", log: log, port: port) { _ in .ok }
    let client = try await OzoneClient.connect(
      to: HostAndPort(host: "127.0.0.1", port: port), userName: "alice",
      failover: OMFailoverPolicy(maxAttempts: 20, waitBetweenRetriesMilliseconds: 1))
    #expect(try await client.volumeInfo("vol1").ownerName == "om1")
    await first.shutdown()
    let second = try await FakeOM.start("restarted", log: log, port: port) { _ in .ok }
    #expect(try await client.volumeInfo("vol1").ownerName == "restarted")
    #expect(log.nodeIDs == ["om1", "restarted"])
    await stop(client, [second])
  }

  @Test func aSingleOMThatCannotBeReachedFailsAtConnect() async throws {
    let error = await #expect(throws: OzoneClientError.self) {
      try await OzoneClient.connect(to: HostAndPort(host: "127.0.0.1", port: 1), userName: "alice")
    }
    #expect(error?.description.contains("cannot reach the OM: 127.0.0.1:1") == true)
  }

  @Test func aClosedClientRefusesCalls() async throws {
    let log = CallLog()
    let fake = try await FakeOM.start("om1", log: log) { _ in .ok }
    let client = try await client([fake.node])
    #expect(try await client.volumeInfo("vol1").ownerName == "om1")
    await client.close()
    let error = await #expect(throws: OzoneClientError.self) { try await client.volumeInfo("vol1") }
    guard case .closed? = error else {
      Issue.record("expected closed, got \(String(describing: error))")
      return
    }
    #expect(log.count("om1") == 1)
    await fake.shutdown()
  }
}
