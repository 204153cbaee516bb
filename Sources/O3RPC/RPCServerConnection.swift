import NIOCore

/// One accepted connection: parses request frames, hands calls to the service handler on the
/// event loop, and writes the answers back (in whatever order they come).
///
/// Everything here runs on the connection's event loop; answers from other threads arrive
/// through `RPCResponder`, which hops onto the loop first.
final class RPCServerConnection: ChannelInboundHandler {
  typealias InboundIn = ByteBuffer
  typealias OutboundOut = ByteBuffer

  private let service: any RPCServiceHandler
  private let limits: RPCLimits
  private let counters: RPCServerCounters
  private var context: ChannelHandlerContext?
  private var remoteAddress: SocketAddress?
  /// Call id → token of each call the service has not answered yet. The token tells a late or
  /// duplicate answer apart from the answer to a newer call that reuses the id.
  private var outstanding: [UInt64: UInt64] = [:]
  private var nextToken: UInt64 = 0
  private var writer = RPCFrameWriter()
  private let mailbox = RPCAnswerMailbox()

  init(service: any RPCServiceHandler, limits: RPCLimits, counters: RPCServerCounters) {
    self.service = service
    self.limits = limits
    self.counters = counters
  }

  func handlerAdded(context: ChannelHandlerContext) {
    self.context = context
    remoteAddress = context.channel.remoteAddress
  }

  func handlerRemoved(context: ChannelHandlerContext) {
    self.context = nil
    outstanding.removeAll()
  }

  func channelActive(context: ChannelHandlerContext) {
    remoteAddress = context.channel.remoteAddress
    context.fireChannelActive()
  }

  func channelInactive(context: ChannelHandlerContext) {
    // Answers still to come have nobody to go to; `answer` drops them.
    outstanding.removeAll()
    context.fireChannelInactive()
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    writer.readBatchStarted()
    switch RPCFrame.parse(unwrapInboundIn(data)) {
    case .frame(let header, let payload) where header.kind == .request:
      receive(header, payload: payload, context: context)
    case .frame(let header, _):
      refuseMalformed(
        callId: header.callId, reason: "a server accepts only requests, got a \(header.kind) frame",
        context: context)
    case .malformed(let callId, let reason):
      refuseMalformed(callId: callId, reason: reason, context: context)
    case .unreadable:
      counters.framesMalformed.add(1, ordering: .relaxed)
      context.close(promise: nil)
    }
  }

  func channelReadComplete(context: ChannelHandlerContext) {
    let replies = writer.readBatchCompleted()
    if replies > 0 { context.flush() }
    counters.recordFlush(replies: replies)
    context.fireChannelReadComplete()
  }

  func errorCaught(context: ChannelHandlerContext, error: Error) {
    if error is RPCFrameTooLargeError {
      counters.framesRefusedAsTooLarge.add(1, ordering: .relaxed)
    }
    // Decoder errors leave the stream unframed and I/O errors leave it dead: either way the
    // connection cannot continue.
    context.close(promise: nil)
  }

  func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
    if case IdleStateHandler.IdleStateEvent.read = event, outstanding.isEmpty {
      context.close(promise: nil)
      return
    }
    context.fireUserInboundEventTriggered(event)
  }

  private func receive(
    _ header: RPCFrameHeader, payload: ByteBuffer, context: ChannelHandlerContext
  ) {
    guard !header.name.isEmpty else {
      refuseMalformed(callId: header.callId, reason: "request without a method", context: context)
      return
    }
    guard outstanding[header.callId] == nil else {
      refuseMalformed(
        callId: header.callId, reason: "call id \(header.callId) is already outstanding",
        context: context)
      return
    }
    guard outstanding.count < limits.maxOutstandingCallsPerConnection else {
      counters.callsRefusedAsOverloaded.add(1, ordering: .relaxed)
      writeError(
        callId: header.callId,
        RPCRemoteError(
          code: RPCRemoteError.overloadedCode,
          message: "this connection already has \(limits.maxOutstandingCallsPerConnection) calls "
            + "outstanding on the server; retry after some complete"),
        context: context)
      return
    }
    let token = nextToken
    nextToken &+= 1
    outstanding[header.callId] = token
    let callContext = makeCallContext(header, eventLoop: context.eventLoop)
    let responder = RPCResponder(
      connection: NIOLoopBound(self, eventLoop: context.eventLoop), mailbox: mailbox, callId: header.callId,
      token: token)
    service.handle(
      method: header.name, payload: payload, context: callContext, responder: responder)
  }

  private func makeCallContext(_ header: RPCFrameHeader, eventLoop: any EventLoop) -> RPCCallContext
  {
    let milliseconds = header.deadlineMilliseconds
    return RPCCallContext(
      callId: header.callId,
      deadlineMilliseconds: milliseconds == 0 ? nil : milliseconds,
      deadline: milliseconds == 0 ? nil : .now() + .milliseconds(Int64(milliseconds)),
      remoteAddress: remoteAddress,
      eventLoop: eventLoop)
  }

  /// Delivers a service's answer; answers to calls no longer outstanding are dropped.
  func answer(callId: UInt64, token: UInt64, _ outcome: Result<ByteBuffer, RPCRemoteError>) {
    guard let context, outstanding[callId] == token else { return }
    outstanding[callId] = nil
    switch outcome {
    case .success(let payload):
      let frameBytes = RPCFrame.frameLength(nameBytes: 0, payloadBytes: payload.readableBytes)
      guard frameBytes <= limits.maxFrameBytes else {
        writeError(
          callId: callId,
          RPCRemoteError(
            code: RPCRemoteError.responseTooLargeCode,
            message: "the response of \(payload.readableBytes) bytes exceeds the frame limit of "
              + "\(limits.maxFrameBytes) bytes"),
          context: context)
        return
      }
      let header = RPCFrameHeader(
        kind: .response, callId: callId, deadlineMilliseconds: 0, name: "")
      RPCFrameWriter.write(header, payload: payload, context: context)
      scheduleFlushIfNeeded(writer.frameWritten(), context: context)
    case .failure(let error):
      writeError(callId: callId, error, context: context)
    }
  }

  private func refuseMalformed(callId: UInt64, reason: String, context: ChannelHandlerContext) {
    counters.framesMalformed.add(1, ordering: .relaxed)
    writeError(
      callId: callId,
      RPCRemoteError(code: RPCRemoteError.malformedRequestCode, message: reason),
      context: context)
  }

  private func writeError(callId: UInt64, _ error: RPCRemoteError, context: ChannelHandlerContext) {
    let frame = RPCFrame.encodeError(callId: callId, error, allocator: context.channel.allocator)
    context.write(NIOAny(frame), promise: nil)
    scheduleFlushIfNeeded(writer.frameWritten(), context: context)
  }

  private func scheduleFlushIfNeeded(
    _ action: RPCFrameWriter.FlushAction, context: ChannelHandlerContext
  ) {
    guard case .scheduleFlush = action else { return }
    context.eventLoop.assumeIsolated().execute {
      guard let context = self.context else { return }
      let replies = self.writer.takeFlush()
      if replies > 0 { context.flush() }
      self.counters.recordFlush(replies: replies)
    }
  }
}
