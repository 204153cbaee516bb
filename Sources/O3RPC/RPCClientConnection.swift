import NIOCore

/// The client end of one connection: numbers calls, writes request frames, matches replies to
/// calls by id, runs call deadlines, and fails every outstanding call when the connection ends.
///
/// Everything here runs on the connection's event loop; `RPCClient` hops onto it first.
final class RPCClientConnection: ChannelInboundHandler {
  typealias InboundIn = ByteBuffer
  typealias OutboundOut = ByteBuffer

  private struct PendingCall {
    var promise: EventLoopPromise<ByteBuffer>
    var deadlineTimer: NIOScheduledCallback?
  }

  private let limits: RPCLimits
  private var context: ChannelHandlerContext?
  private var pending: [UInt64: PendingCall] = [:]
  private var nextCallId: UInt64 = 1
  /// Set once the connection can carry no more calls: why new and outstanding calls fail.
  private var closedReason: RPCError?
  private var writer = RPCFrameWriter()

  init(limits: RPCLimits) {
    self.limits = limits
  }

  func handlerAdded(context: ChannelHandlerContext) {
    self.context = context
  }

  func handlerRemoved(context: ChannelHandlerContext) {
    failAll(closedReason ?? .connectionClosed)
    self.context = nil
  }

  func channelInactive(context: ChannelHandlerContext) {
    failAll(closedReason ?? .connectionClosed)
    context.fireChannelInactive()
  }

  func errorCaught(context: ChannelHandlerContext, error: Error) {
    if let tooLarge = error as? RPCFrameTooLargeError {
      closeWithError(.frameTooLarge(tooLarge.declaredBytes), context: context)
    } else {
      closeWithError(.connectionClosed, context: context)
    }
  }

  /// Starts a call; `promise` completes with the response or an `RPCError`.
  func start(
    method: String, payload: ByteBuffer, deadline: NIODeadline?,
    promise: EventLoopPromise<ByteBuffer>
  ) {
    guard let context, closedReason == nil, context.channel.isActive else {
      promise.fail(closedReason ?? RPCError.connectionClosed)
      return
    }
    if let refusal = refusal(method: method, payload: payload) {
      promise.fail(refusal)
      return
    }
    var deadlineMilliseconds: UInt32 = 0
    if let deadline {
      guard let milliseconds = Self.millisecondsLeft(until: deadline) else {
        promise.fail(RPCError.deadlineExceeded)
        return
      }
      deadlineMilliseconds = milliseconds
    }
    let callId = nextCallId
    nextCallId &+= 1
    var call = PendingCall(promise: promise, deadlineTimer: nil)
    if let deadline {
      do {
        call.deadlineTimer = try context.eventLoop.assumeIsolated().scheduleCallback(
          at: deadline, handler: CallDeadline(connection: self, callId: callId))
      } catch {
        // Only an event loop that is shutting down refuses a timer; its connections are ending.
        promise.fail(RPCError.connectionClosed)
        return
      }
    }
    pending[callId] = call
    let header = RPCFrameHeader(
      kind: .request, callId: callId, deadlineMilliseconds: deadlineMilliseconds, name: method)
    RPCFrameWriter.write(header, payload: payload, context: context)
    scheduleFlushIfNeeded(writer.frameWritten(), context: context)
  }

  /// The time left until `deadline` as the header carries it, or nil when none is left.
  /// Rounded up so that a call with time left never announces "no deadline" (0).
  private static func millisecondsLeft(until deadline: NIODeadline) -> UInt32? {
    let remaining = deadline - .now()
    guard remaining > .zero else { return nil }
    return UInt32(clamping: (remaining.nanoseconds + 999_999) / 1_000_000)
  }

  /// Why a call cannot be sent at all, or nil when it can.
  private func refusal(method: String, payload: ByteBuffer) -> RPCError? {
    let methodBytes = method.utf8.count
    guard (1...RPCFrame.maxNameBytes).contains(methodBytes) else {
      return .malformedFrame(
        "a method name must have 1...\(RPCFrame.maxNameBytes) bytes, has \(methodBytes)")
    }
    let frameBytes = RPCFrame.frameLength(
      nameBytes: methodBytes, payloadBytes: payload.readableBytes)
    guard frameBytes <= limits.maxFrameBytes else {
      return .frameTooLarge(frameBytes)
    }
    guard pending.count < limits.maxOutstandingCallsPerConnection else {
      return .tooManyOutstandingCalls
    }
    return nil
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    writer.readBatchStarted()
    switch RPCFrame.parse(unwrapInboundIn(data)) {
    case .frame(let header, let payload):
      receive(header, payload: payload, context: context)
    case .malformed(_, let reason), .unreadable(let reason):
      closeWithError(.malformedFrame(reason), context: context)
    }
  }

  func channelReadComplete(context: ChannelHandlerContext) {
    if writer.readBatchCompleted() > 0 { context.flush() }
    context.fireChannelReadComplete()
  }

  private func receive(
    _ header: RPCFrameHeader, payload: ByteBuffer, context: ChannelHandlerContext
  ) {
    let outcome: Result<ByteBuffer, RPCError>
    switch header.kind {
    case .response:
      outcome = .success(payload)
    case .error:
      var message = payload
      let text = message.readString(length: message.readableBytes) ?? ""
      outcome = .failure(.remote(code: header.name, message: text))
    case .request:
      closeWithError(
        .malformedFrame("a client accepts only replies, got a request"), context: context)
      return
    }
    // A reply for an unknown id answers a call whose deadline already passed: dropped.
    guard let call = pending.removeValue(forKey: header.callId) else { return }
    call.deadlineTimer?.cancel()
    call.promise.completeWith(outcome.mapError { $0 })
  }

  /// The deadline of `callId` passed: fail it; a reply arriving later is dropped.
  func expire(callId: UInt64) {
    guard let call = pending.removeValue(forKey: callId) else { return }
    call.promise.fail(RPCError.deadlineExceeded)
  }

  /// Stops all use of the connection: outstanding and later calls fail with `reason`.
  private func closeWithError(_ reason: RPCError, context: ChannelHandlerContext) {
    if closedReason == nil {
      closedReason = reason
    }
    failAll(reason)
    context.close(promise: nil)
  }

  private func failAll(_ reason: RPCError) {
    if closedReason == nil {
      closedReason = reason
    }
    // Swapped out first: a failure callback that starts a new call must find the connection
    // closed, not the dictionary being iterated.
    let calls = pending
    pending = [:]
    for call in calls.values {
      call.deadlineTimer?.cancel()
      call.promise.fail(reason)
    }
  }

  private func scheduleFlushIfNeeded(
    _ action: RPCFrameWriter.FlushAction, context: ChannelHandlerContext
  ) {
    guard case .scheduleFlush = action else { return }
    context.eventLoop.assumeIsolated().execute {
      guard let context = self.context else { return }
      if self.writer.takeFlush() > 0 { context.flush() }
    }
  }
}

/// Fails one call when its deadline passes; runs on the connection's event loop.
private struct CallDeadline: NIOScheduledCallbackHandler {
  let connection: RPCClientConnection
  let callId: UInt64

  func handleScheduledCallback(eventLoop: some EventLoop) {
    connection.expire(callId: callId)
  }
}
