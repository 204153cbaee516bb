import Logging
import NIOCore
import O3RPC
import RaftCore

/// Serves "raft.messages": decodes each batch, checks it comes from one peer and is addressed
/// here, hands each group's messages to that group in one call and answers with an empty payload.
///
/// Refused as a whole, with an error reply (the `RaftRPCError` code) and a warning, nothing of it
/// reaching Raft: a batch that does not decode, holds a message for another peer, mixes senders,
/// or comes from a peer that no hosted group lists (a stranger: anyone who can reach the port
/// could otherwise make a replica adopt any term).
///
/// Dropped and counted, but answered with success: messages for a group not hosted here (or not
/// started yet) and messages for a hosted group that does not list the sender. An error reply
/// would make the sender drop the whole call, the other groups' messages with it, and report this
/// process unreachable to every group it shares with it; a group that is merely not here yet (a
/// pipeline this datanode has not created) would so disturb the healthy ones.
struct InboundBatchHandler: Sendable {
  let context: TransportContext

  func handle(_ payload: ByteBuffer, call: RPCCallContext, responder: RPCResponder) {
    let runs: [GroupedMessages]
    do {
      runs = try RaftMessageCodec.decodeGroupedBatch(payload)
    } catch {
      context.counters.recordMalformedBatch()
      refuse(error, call: call, responder: responder)
      return
    }
    if let refusal = checkAddressing(runs) {
      refuse(refusal, call: call, responder: responder)
      return
    }
    guard let sender = runs.first?.messages.first?.from else {
      responder.succeed(ByteBuffer())
      return
    }
    switch context.withRegistry({ $0.admit(runs, from: sender) }) {
    case .stranger:
      context.counters.recordUnknownPeerBatch()
      let error = RaftRPCError(
        .unknownPeer,
        "peer \(context.localPeer) has no address for peer \(sender) in any group it hosts, so "
          + "the sender is not a member of them; its messages are refused")
      refuse(error, call: call, responder: responder)
    case .accepted(let accepted):
      record(accepted, from: sender, bytes: payload.readableBytes)
      for delivery in accepted.deliveries {
        delivery.receive(delivery.messages)
      }
      responder.succeed(ByteBuffer())
    }
  }

  /// The refusal for a batch holding a message for another peer or messages of several senders;
  /// nil when it holds one sender's messages for this peer.
  private func checkAddressing(_ runs: [GroupedMessages]) -> RaftRPCError? {
    let messages = runs.flatMap(\.messages)
    if let stray = messages.first(where: { $0.to != context.localPeer }) {
      context.counters.recordMisaddressedBatch()
      return RaftRPCError(
        .wrongPeer,
        "a message from \(stray.from) for peer \(stray.to) reached peer \(context.localPeer); "
          + "the sender's address for \(stray.to) points at the wrong replica")
    }
    if let sender = messages.first?.from, !messages.allSatisfy({ $0.from == sender }) {
      context.counters.recordMalformedBatch()
      return RaftRPCError(
        .invalidMessage, "a batch mixes messages from several peers; each carries one sender's")
    }
    return nil
  }

  private func refuse(_ error: RaftRPCError, call: RPCCallContext, responder: RPCResponder) {
    let sender = call.remoteAddress.map { "\($0)" } ?? "an unknown address"
    context.logger.warning("refused a Raft batch from \(sender): \(error)")
    responder.fail(RPCRemoteError(code: error.code.rawValue, message: error.message))
  }

  private func record(_ accepted: GroupRegistry.Accepted, from sender: PeerID, bytes: Int) {
    context.counters.update(sender) { statistics in
      statistics.callsReceived += 1
      statistics.messagesReceived += accepted.messagesDelivered
      statistics.bytesReceived += bytes
      statistics.messagesForUnknownGroup += accepted.messagesForUnknownGroup
      statistics.messagesFromNonMember += accepted.messagesFromNonMember
    }
    for group in accepted.newlyUnknownGroups {
      let text =
        "dropping Raft messages from peer \(sender) for group \(group), which this process does not host "
        + "(or has not started yet); counted as messagesForUnknownGroup, warned once per sender and group"
      context.logger.warning("\(text)")
    }
  }
}
