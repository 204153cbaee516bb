import NIOCore
import NIOPosix
import O3RPC
import O3TestSupport
import Raft
import RaftCore
import RaftProto
import Testing

@testable import RaftRPC

/// Several Raft groups behind one endpoint per process, on 127.0.0.1 in this process: each group
/// gets only its own messages, groups share one connection per remote process, and what one
/// group does (an unknown group, a removed member, a shutdown) leaves the others alone.
@Suite(.watchdog, .timeLimit(.minutes(2))) struct MultiGroupTransportTests {
  private static let groups = (1...4).map { RaftGroupID(high: 0x6f33_6b76_0000_0000, low: UInt64($0)) }

  @Test func fourGroupsOnThreeEndpointsGetOnlyTheirOwnMessagesInOrderOverOneConnectionPerPeer() async throws {
    let sendsPerGroup: UInt64 = 100
    try await withEventLoopGroup { eventLoops in
      var peers: [GroupPeer] = []
      for id: PeerID in [1, 2, 3] {
        peers.append(try await GroupPeer.start(id, hosting: Self.groups, eventLoops: eventLoops))
      }
      connectAll(peers, in: Self.groups)
      // The term names the group, so a message delivered to the wrong group shows.
      for number in 1...sendsPerGroup {
        for peer in peers {
          for (position, group) in Self.groups.enumerated() {
            peer.transports[group]!.send(
              peers.filter { $0.id != peer.id }.map {
                numberedHeartbeat(from: peer.id, to: $0.id, term: UInt64(position + 1), number)
              })
          }
        }
      }
      try await waitUntil("every group of every peer received every heartbeat, and every send is counted") {
        peers.allSatisfy { peer in
          Self.groups.allSatisfy { peer.inboxes[$0]!.count == 2 * Int(sendsPerGroup) }
            && peers.allSatisfy { other in
              other.id == peer.id || peer.endpoint.statistics[other.id].messagesSent == 4 * Int(sendsPerGroup)
            }
        }
      }
      for receiver in peers {
        let statistics = receiver.endpoint.statistics
        for (position, group) in Self.groups.enumerated() {
          let inbox = receiver.inboxes[group]!
          #expect(inbox.messages.allSatisfy { $0.term == UInt64(position + 1) }, "group \(group) of \(receiver.id)")
          for sender in peers where sender.id != receiver.id {
            #expect(heartbeatNumbers(inbox.messages(from: sender.id)) == Array(1...sendsPerGroup))
          }
          #expect(inbox.unreachableReports.isEmpty)
          #expect(statistics[group: group].messagesReceived == 2 * Int(sendsPerGroup))
          #expect(statistics[group: group].messagesSubmitted == 2 * Int(sendsPerGroup))
        }
        for sender in peers where sender.id != receiver.id {
          #expect(statistics[sender.id].connectionsEstablished == 1, "one connection from \(receiver.id) to \(sender.id) for 4 groups")
          #expect(statistics[sender.id].messagesSent == 4 * Int(sendsPerGroup))
          #expect(statistics[sender.id].messagesReceived == 4 * Int(sendsPerGroup))
          #expect(statistics[sender.id].messagesDroppedTotal == 0)
        }
      }
      for peer in peers {
        await peer.endpoint.shutdown()
      }
    }
  }

  @Test func aBatchForAHostedAndAnUnhostedGroupDeliversTheFirstAndCountsTheSecond() async throws {
    let (hosted, unhosted) = (Self.groups[0], Self.groups[1])
    try await withEventLoopGroup { eventLoops in
      let leader = try await GroupPeer.start(1, hosting: [hosted, unhosted], eventLoops: eventLoops)
      let follower = try await GroupPeer.start(2, hosting: [hosted], eventLoops: eventLoops)
      connectAll([leader, follower], in: [hosted])
      // The leader believes the follower is in both groups; the follower hosts only one.
      leader.transports[unhosted]!.setAddress(follower.address, of: 2)
      let client = try await RPCClient.connect(host: "127.0.0.1", port: follower.endpoint.localPort, group: eventLoops)
      let mixed = labelledBatch([
        (hosted, numberedHeartbeat(from: 1, to: 2, 1)), (unhosted, numberedHeartbeat(from: 1, to: 2, 2)),
        (hosted, numberedHeartbeat(from: 1, to: 2, 3)),
      ])
      let reply = try await client.call(method: RaftRPCEndpoint.method, payload: mixed, deadline: .seconds(30)).get()
      #expect(reply.readableBytes == 0, "a batch naming a group that is not hosted is still answered with success")
      #expect(heartbeatNumbers(follower.inboxes[hosted]!.messages) == [1, 3])
      #expect(follower.endpoint.statistics[1].messagesForUnknownGroup == 1)
      await client.close()

      // Through the real transport: the sender sees its calls acknowledged, no drop, no report.
      for number: UInt64 in 10...19 {
        leader.transports[unhosted]!.send([numberedHeartbeat(from: 1, to: 2, number)])
        leader.transports[hosted]!.send([numberedHeartbeat(from: 1, to: 2, number)])
      }
      try await waitUntil("the hosted group's heartbeats arrived and every call was acknowledged") {
        let statistics = leader.endpoint.statistics[2]
        return follower.inboxes[hosted]!.count == 12 && statistics.callsSent > 0
          && statistics.callsAcknowledged == statistics.callsSent && statistics.messagesSent == 20
      }
      #expect(follower.endpoint.statistics[1].messagesForUnknownGroup == 11)
      #expect(leader.endpoint.statistics[2].messagesDroppedTotal == 0)
      #expect(leader.inboxes[hosted]!.unreachableReports.isEmpty)
      #expect(leader.inboxes[unhosted]!.unreachableReports.isEmpty)
      await leader.endpoint.shutdown()
      await follower.endpoint.shutdown()
    }
  }

  @Test func aMemberOfOneGroupSendingForAnotherIsDroppedWhileTheFirstIsDelivered() async throws {
    let (shared, other) = (Self.groups[0], Self.groups[1])
    try await withEventLoopGroup { eventLoops in
      let follower = try await GroupPeer.start(2, hosting: [shared, other], eventLoops: eventLoops)
      // Peer 1 is a member of `shared` only.
      follower.transports[shared]!.setAddress("127.0.0.1:9", of: 1)
      let client = try await RPCClient.connect(host: "127.0.0.1", port: follower.endpoint.localPort, group: eventLoops)
      func call(_ payload: ByteBuffer) async throws -> ByteBuffer {
        try await client.call(method: RaftRPCEndpoint.method, payload: payload, deadline: .seconds(30)).get()
      }

      let mixed = labelledBatch([(shared, numberedHeartbeat(from: 1, to: 2, 1)), (other, numberedHeartbeat(from: 1, to: 2, 2))])
      #expect(try await call(mixed).readableBytes == 0)
      let onlyOther = labelledBatch([(other, numberedHeartbeat(from: 1, to: 2, 3))])
      #expect(try await call(onlyOther).readableBytes == 0, "a known peer is not refused for one group it is not in")
      #expect(heartbeatNumbers(follower.inboxes[shared]!.messages) == [1])
      #expect(follower.inboxes[other]!.count == 0)
      #expect(follower.endpoint.statistics[1].messagesFromNonMember == 2)
      #expect(follower.endpoint.statistics[1].messagesReceived == 1)

      // A peer no group lists is a stranger: refused as a whole, as with one group.
      let fromStranger = labelledBatch([(shared, numberedHeartbeat(from: 9, to: 2, 4))])
      try await expectRemoteError("RAFT_UNKNOWN_PEER") { _ = try await call(fromStranger) }
      #expect(follower.endpoint.statistics.batchesRefusedFromUnknownPeers == 1)
      #expect(follower.inboxes[shared]!.count == 1)
      await client.close()
      await follower.endpoint.shutdown()
    }
  }

  @Test func aStoppedEndpointIsReportedOnceToEachGroupThatListsItAndToNoOther() async throws {
    let (listing, notListing) = (Array(Self.groups[0..<3]), Self.groups[3])
    try await withEventLoopGroup { eventLoops in
      let leader = try await GroupPeer.start(1, hosting: Self.groups, eventLoops: eventLoops)
      let victim = try await GroupPeer.start(2, hosting: listing, eventLoops: eventLoops)
      let survivor = try await GroupPeer.start(3, hosting: [notListing], eventLoops: eventLoops)
      connectAll([leader, victim], in: listing)
      connectAll([leader, survivor], in: [notListing])
      for group in listing { leader.transports[group]!.send([numberedHeartbeat(from: 1, to: 2, 1)]) }
      try await waitUntil("the victim received a heartbeat in each of its groups") {
        listing.allSatisfy { victim.inboxes[$0]!.count == 1 }
      }
      await victim.endpoint.shutdown()

      // Only the first group keeps sending: the link is shared, so all three hear of it.
      var number: UInt64 = 1
      try await waitUntil("every group listing the stopped peer was told") {
        number += 1
        leader.transports[listing[0]]!.send([numberedHeartbeat(from: 1, to: 2, number)])
        leader.transports[notListing]!.send([numberedHeartbeat(from: 1, to: 3, number)])
        return listing.allSatisfy { !leader.inboxes[$0]!.unreachableReports.isEmpty }
      }
      for group in listing {
        #expect(leader.inboxes[group]!.unreachableReports == [2], "group \(group)")
        #expect(leader.endpoint.statistics[group: group].unreachableReports == 1)
      }
      #expect(leader.inboxes[notListing]!.unreachableReports.isEmpty)
      #expect(leader.endpoint.statistics[2].unreachableReports == 1, "one failure episode of one link")
      try await waitUntil("the peer that did not stop keeps receiving") { survivor.inboxes[notListing]!.count > 0 }
      await leader.endpoint.shutdown()
      await survivor.endpoint.shutdown()
    }
  }

  @Test func removingAPeerFromOneGroupKeepsItsConnectionForTheOtherAndFromTheLastClosesIt() async throws {
    let (first, second) = (Self.groups[0], Self.groups[1])
    try await withEventLoopGroup { eventLoops in
      let leader = try await GroupPeer.start(1, hosting: [first, second], eventLoops: eventLoops)
      let follower = try await GroupPeer.start(2, hosting: [first, second], eventLoops: eventLoops)
      connectAll([leader, follower], in: [first, second])
      leader.transports[first]!.send([numberedHeartbeat(from: 1, to: 2, 1)])
      try await waitUntil("the first heartbeat arrived") { follower.inboxes[first]!.count == 1 }

      leader.transports[first]!.removePeer(2)
      leader.transports[second]!.send([numberedHeartbeat(from: 1, to: 2, 2)])
      try await waitUntil("the other group's heartbeat arrived") { follower.inboxes[second]!.count == 1 }
      #expect(leader.endpoint.statistics[2].connectionsEstablished == 1, "the connection stayed up")
      // Peer 2 is no longer a member of the first group as the leader sees it.
      follower.transports[first]!.send([numberedHeartbeat(from: 2, to: 1, 3)])
      follower.transports[second]!.send([numberedHeartbeat(from: 2, to: 1, 4)])
      try await waitUntil("the second group's reply arrived and the first group's was dropped") {
        leader.inboxes[second]!.count == 1 && leader.endpoint.statistics[2].messagesFromNonMember == 1
      }
      #expect(leader.inboxes[first]!.count == 0)

      leader.transports[second]!.removePeer(2)
      leader.transports[second]!.send([numberedHeartbeat(from: 1, to: 2, 5)])
      try await waitUntil("the message after the last removal found no address") {
        leader.endpoint.statistics[2].messagesDropped[.noAddress] == 1
      }
      #expect(follower.inboxes[second]!.count == 1)
      await leader.endpoint.shutdown()
      await follower.endpoint.shutdown()
    }
  }

  @Test func aGroupShutdownLeavesThePortServingTheOthersAndTheGroupCanComeBack() async throws {
    let (leaving, staying) = (Self.groups[0], Self.groups[1])
    try await withEventLoopGroup { eventLoops in
      let leader = try await GroupPeer.start(1, hosting: [leaving, staying], eventLoops: eventLoops)
      let follower = try await GroupPeer.start(2, hosting: [leaving, staying], eventLoops: eventLoops)
      connectAll([leader, follower], in: [leaving, staying])
      let gone = follower.transports[leaving]!
      await gone.shutdown()
      #expect(follower.endpoint.hostedGroups == [staying])
      gone.send([numberedHeartbeat(from: 2, to: 1, 1)])
      #expect(follower.endpoint.statistics[1].messagesDropped[.peerRemoved] == 1)

      leader.transports[leaving]!.send([numberedHeartbeat(from: 1, to: 2, 1)])
      leader.transports[staying]!.send([numberedHeartbeat(from: 1, to: 2, 2)])
      try await waitUntil("the staying group got its heartbeat and the other's was counted") {
        follower.inboxes[staying]!.count == 1 && follower.endpoint.statistics[1].messagesForUnknownGroup == 1
      }
      #expect(follower.inboxes[leaving]!.count == 0)
      #expect(follower.endpoint.localPort > 0)
      #expect(throws: RaftRPCError.self) { _ = try follower.endpoint.transport(for: staying) }

      let again = try follower.endpoint.transport(for: leaving)
      let inbox = Inbox()
      again.setAddress(leader.address, of: 1)
      try await again.start(receive: { inbox.receive($0) }, onUnreachable: { inbox.reportUnreachable($0) })
      leader.transports[leaving]!.send([numberedHeartbeat(from: 1, to: 2, 3)])
      try await waitUntil("the group added again receives") { inbox.count == 1 }
      #expect(heartbeatNumbers(inbox.messages) == [3])
      #expect(follower.endpoint.hostedGroups == [leaving, staying])
      await leader.endpoint.shutdown()
      await follower.endpoint.shutdown()
    }
  }

  @Test func aGroupThatListsAPeerWhoseLinkIsFailingIsToldAtOnce() async throws {
    try await withEventLoopGroup { eventLoops in
      let port = try FreePorts.allocate(1)[0]
      let leader = try await GroupPeer.start(1, hosting: [Self.groups[0]], eventLoops: eventLoops)
      leader.transports[Self.groups[0]]!.setAddress("127.0.0.1:\(port)", of: 2)
      leader.transports[Self.groups[0]]!.send([numberedHeartbeat(from: 1, to: 2, 1)])
      try await waitUntil("the first group was told peer 2 is unreachable") {
        leader.inboxes[Self.groups[0]]!.unreachableReports == [2]
      }

      // Joining a started group mid-episode.
      let joining = try leader.endpoint.transport(for: Self.groups[1])
      let joiningInbox = Inbox()
      try await joining.start(receive: { joiningInbox.receive($0) }, onUnreachable: { joiningInbox.reportUnreachable($0) })
      joining.setAddress("127.0.0.1:\(port)", of: 2)
      #expect(joiningInbox.unreachableReports == [2])

      // Starting a group that already lists the peer.
      let starting = try leader.endpoint.transport(for: Self.groups[2])
      starting.setAddress("127.0.0.1:\(port)", of: 2)
      let startingInbox = Inbox()
      try await starting.start(receive: { startingInbox.receive($0) }, onUnreachable: { startingInbox.reportUnreachable($0) })
      #expect(startingInbox.unreachableReports == [2])
      #expect(leader.endpoint.statistics[group: Self.groups[2]].unreachableReports == 1)
      #expect(leader.endpoint.statistics[2].unreachableReports == 1, "still one episode")
      await leader.endpoint.shutdown()
    }
  }

  @Test func aGroupIsHostedOnceAndNotAfterShutdown() async throws {
    let endpoint = try RaftRPCEndpoint(
      localPeer: 1, listenHost: "127.0.0.1", listenPort: 0, eventLoopGroup: MultiThreadedEventLoopGroup.singleton)
    _ = try endpoint.transport(for: Self.groups[0])
    let twice = #expect(throws: RaftRPCError.self) { _ = try endpoint.transport(for: Self.groups[0]) }
    #expect(twice?.code == .groupExists)
    #expect(twice?.message.contains("\(Self.groups[0])") == true)
    #expect(endpoint.hostedGroups == [Self.groups[0]])
    await endpoint.shutdown()
    let stopped = #expect(throws: RaftRPCError.self) { _ = try endpoint.transport(for: Self.groups[1]) }
    #expect(stopped?.code == .endpointStopped)
  }
}

/// A started endpoint hosting some groups, each with its own started transport and inbox.
struct GroupPeer: Sendable {
  let endpoint: RaftRPCEndpoint
  let transports: [RaftGroupID: RaftRPCGroupTransport]
  let inboxes: [RaftGroupID: Inbox]

  var id: PeerID { endpoint.localPeer }
  var address: String { "127.0.0.1:\(endpoint.localPort)" }

  static func start(
    _ id: PeerID, hosting groups: [RaftGroupID], eventLoops: any EventLoopGroup
  ) async throws -> GroupPeer {
    let endpoint = try RaftRPCEndpoint(
      localPeer: id, listenHost: "127.0.0.1", listenPort: 0, eventLoopGroup: eventLoops, limits: testLimits())
    var transports: [RaftGroupID: RaftRPCGroupTransport] = [:]
    var inboxes: [RaftGroupID: Inbox] = [:]
    for group in groups {
      let transport = try endpoint.transport(for: group)
      let inbox = Inbox()
      try await transport.start(receive: { inbox.receive($0) }, onUnreachable: { inbox.reportUnreachable($0) })
      transports[group] = transport
      inboxes[group] = inbox
    }
    try await endpoint.start()
    return GroupPeer(endpoint: endpoint, transports: transports, inboxes: inboxes)
  }
}

/// Tells each peer, in each of `groups` it hosts, where the others that host it listen.
func connectAll(_ peers: [GroupPeer], in groups: [RaftGroupID]) {
  for group in groups {
    let members = peers.filter { $0.transports[group] != nil }
    for peer in members {
      for other in members where other.id != peer.id {
        peer.transports[group]!.setAddress(other.address, of: other.id)
      }
    }
  }
}

/// A numbered heartbeat in `term`.
func numberedHeartbeat(from: PeerID, to: PeerID, term: UInt64, _ number: UInt64) -> RaftMessage {
  RaftMessage(from: from, to: to, term: term, body: .heartbeat(commit: 0, readRound: number))
}

/// One "raft.messages" payload holding each message labelled with its group, in order.
func labelledBatch(_ messages: [(RaftGroupID, RaftMessage)]) -> ByteBuffer {
  var batch = RaftWireBatch()
  batch.messages = messages.map { RaftMessageCodec.encode($0.1, group: $0.0) }
  return ByteBuffer(bytes: RaftMessageCodec.serialize(batch))
}
