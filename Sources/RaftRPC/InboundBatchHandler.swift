import Logging
import NIOCore
import O3RPC
import RaftCore

/// Serves "raft.messages": decodes each batch, checks it comes from one peer this transport has
/// an address for and is addressed here, hands it to the runtime in one call and answers with an
/// empty payload.
///
/// A batch that does not decode, holds a message for another peer, or comes from a peer outside
/// the address book is refused as a whole with an error reply (the `RaftRPCError` code) and a
/// warning; nothing of it reaches Raft.
struct InboundBatchHandler: Sendable {
  let context: TransportContext
  let receive: @Sendable ([RaftMessage]) -> Void

  func handle(_ payload: ByteBuffer, call: RPCCallContext, responder: RPCResponder) {
    let messages: [RaftMessage]
    do {
      messages = try RaftMessageCodec.decodeBatch(payload)
    } catch {
      context.counters.recordMalformedBatch()
      refuse(error, call: call, responder: responder)
      return
    }
    if let stray = messages.first(where: { $0.to != context.localPeer }) {
      context.counters.recordMisaddressedBatch()
      let error = RaftRPCError(
        .wrongPeer,
        "a message from \(stray.from) for peer \(stray.to) reached peer \(context.localPeer); "
          + "the sender's address for \(stray.to) points at the wrong replica")
      refuse(error, call: call, responder: responder)
      return
    }
    if let sender = messages.first?.from {
      guard messages.allSatisfy({ $0.from == sender }) else {
        context.counters.recordMalformedBatch()
        let error = RaftRPCError(
          .invalidMessage, "a batch mixes messages from several peers; each carries one sender's")
        refuse(error, call: call, responder: responder)
        return
      }
      guard context.knows(sender) else {
        context.counters.recordUnknownPeerBatch()
        let error = RaftRPCError(
          .unknownPeer,
          "peer \(context.localPeer) has no address for peer \(sender), so it is not a member of this "
            + "replica's group; its messages are refused")
        refuse(error, call: call, responder: responder)
        return
      }
      record(messages, from: sender, bytes: payload.readableBytes)
      receive(messages)
    }
    responder.succeed(ByteBuffer())
  }

  private func refuse(_ error: RaftRPCError, call: RPCCallContext, responder: RPCResponder) {
    let sender = call.remoteAddress.map { "\($0)" } ?? "an unknown address"
    context.logger.warning("refused a Raft batch from \(sender): \(error)")
    responder.fail(RPCRemoteError(code: error.code.rawValue, message: error.message))
  }

  private func record(_ messages: [RaftMessage], from sender: PeerID, bytes: Int) {
    context.counters.update(sender) { statistics in
      statistics.callsReceived += 1
      statistics.messagesReceived += messages.count
      statistics.bytesReceived += bytes
    }
  }
}
