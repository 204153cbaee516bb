import NIOCore

/// The server side of an O3RPC service: receives every call of every connection.
public protocol RPCServiceHandler: Sendable {
  /// Called on the connection's event loop. Must not block. Answer exactly once through
  /// `responder`, from any thread; a call never answered stays outstanding (and counts against
  /// `RPCLimits.maxOutstandingCallsPerConnection`) until its connection closes.
  func handle(method: String, payload: ByteBuffer, context: RPCCallContext, responder: RPCResponder)
}

/// What a service handler knows about one call besides its method and payload.
public struct RPCCallContext: Sendable {
  /// The client's id for this call, unique among the connection's outstanding calls.
  public let callId: UInt64
  /// Time the client allowed when it sent the call; nil when it set no deadline.
  public let deadlineMilliseconds: UInt32?
  /// When the client stops waiting, by this process's monotonic clock (measured from receipt,
  /// so it ignores the time the request spent in transit).
  public let deadline: NIODeadline?
  /// The client's address.
  public let remoteAddress: SocketAddress?
  /// The connection's event loop, for handlers that chain futures.
  public let eventLoop: any EventLoop
}

/// Answers one call; may be used from any thread. Only the first answer counts.
public struct RPCResponder: Sendable {
  let connection: NIOLoopBound<RPCServerConnection>
  /// The connection's answers from other threads, delivered in batches (see `RPCAnswerMailbox`).
  let mailbox: RPCAnswerMailbox
  let callId: UInt64
  /// Distinguishes this call from a later one that reuses its call id.
  let token: UInt64

  /// Answers with `payload` as the response.
  public func succeed(_ payload: ByteBuffer) {
    deliver(.success(payload))
  }

  /// Answers with `bytes` as the response.
  public func succeed(bytes: [UInt8]) {
    deliver(.success(ByteBuffer(bytes: bytes)))
  }

  /// Answers with an error; the client's call fails with `RPCError.remote`.
  public func fail(_ error: RPCRemoteError) {
    deliver(.failure(error))
  }

  private func deliver(_ outcome: Result<ByteBuffer, RPCRemoteError>) {
    if connection.eventLoop.inEventLoop {
      connection.value.answer(callId: callId, token: token, outcome)
    } else if mailbox.post(RPCAnswerMailbox.Answer(callId: callId, token: token, outcome: outcome)) {
      let connection = self.connection
      let mailbox = self.mailbox
      connection.eventLoop.execute {
        for answer in mailbox.takeAll() {
          connection.value.answer(callId: answer.callId, token: answer.token, answer.outcome)
        }
      }
    }
  }
}
