import NIOCore
import O3TestSupport
import Testing

@testable import O3RPC

/// The wire format, without any network: what Frame.swift's header comment promises.
@Suite(.watchdog) struct FrameTests {
  private let allocator = ByteBufferAllocator()

  /// Strips and checks the length field, as RPCFrameDecoder does.
  private func body(of frame: ByteBuffer) throws -> ByteBuffer {
    var frame = frame
    let lengthField = frame.readInteger(as: UInt32.self)
    let length = try #require(lengthField)
    #expect(Int(length) == frame.readableBytes)
    return frame
  }

  @Test func requestRoundTripsWithItsHeaderFieldsAndPayload() throws {
    let header = RPCFrameHeader(
      kind: .request, callId: 0x0102_0304_0506_0708, deadlineMilliseconds: 1500, name: "om.submit")
    let frame = RPCFrame.encode(header, payload: ByteBuffer(text: "payload"), allocator: allocator)
    #expect(frame.readableBytes == 4 + 14 + 9 + 7)
    let parsed = RPCFrame.parse(try body(of: frame))
    #expect(parsed == .frame(header, payload: ByteBuffer(text: "payload")))
  }

  @Test func fieldsAreBigEndianAtTheirDocumentedOffsets() throws {
    let header = RPCFrameHeader(kind: .request, callId: 7, deadlineMilliseconds: 258, name: "m")
    let bytes = Array(
      RPCFrame.encode(header, payload: ByteBuffer(), allocator: allocator).readableBytesView)
    #expect(bytes == [0, 0, 0, 15, 1, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 1, 2, 1, UInt8(ascii: "m")])
  }

  @Test func errorReplyCarriesCodeAndMessage() throws {
    let frame = RPCFrame.encodeError(
      callId: 9, RPCRemoteError(code: "KEY_NOT_FOUND", message: "no key /v/b/k"),
      allocator: allocator)
    let parsed = RPCFrame.parse(try body(of: frame))
    let expected = RPCFrameHeader(
      kind: .error, callId: 9, deadlineMilliseconds: 0, name: "KEY_NOT_FOUND")
    #expect(parsed == .frame(expected, payload: ByteBuffer(text: "no key /v/b/k")))
  }

  @Test func overlongErrorCodeAndMessageAreCutWithoutSplittingCharacters() throws {
    let code = String(repeating: "é", count: 200)  // 400 bytes of UTF-8
    let message = String(repeating: "x", count: 10_000)
    let frame = RPCFrame.encodeError(
      callId: 1, RPCRemoteError(code: code, message: message), allocator: allocator)
    guard case .frame(let header, let payload) = RPCFrame.parse(try body(of: frame)) else {
      Issue.record("the error frame did not parse")
      return
    }
    #expect(header.name == String(repeating: "é", count: 127))
    #expect(payload.readableBytes == RPCFrame.maxErrorMessageBytes)
  }

  @Test func frameTooShortForACallIdIsUnreadable() {
    let parsed = RPCFrame.parse(ByteBuffer(bytes: [1, 0, 0, 0, 0]))
    guard case .unreadable = parsed else {
      Issue.record("expected .unreadable, got \(parsed)")
      return
    }
  }

  @Test func headerTruncatedAfterTheCallIdIsMalformedWithThatCallId() {
    let parsed = RPCFrame.parse(ByteBuffer(bytes: [1, 0, 0, 0, 0, 0, 0, 0, 42, 0, 0]))
    #expect(parsed == .malformed(callId: 42, reason: "frame header truncated after the call id"))
  }

  @Test func nameLongerThanTheFrameIsMalformed() {
    let parsed = RPCFrame.parse(
      ByteBuffer(bytes: [1, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 200, 65]))
    guard case .malformed(callId: 5, _) = parsed else {
      Issue.record("expected .malformed for call 5, got \(parsed)")
      return
    }
  }

  @Test func unknownKindIsMalformed() {
    let parsed = RPCFrame.parse(ByteBuffer(bytes: [9, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0]))
    #expect(parsed == .malformed(callId: 3, reason: "unknown frame kind 9"))
  }

  @Test func nameThatIsNotUTF8IsMalformed() {
    let parsed = RPCFrame.parse(
      ByteBuffer(bytes: [1, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 2, 0xC3, 0x28]))
    #expect(parsed == .malformed(callId: 4, reason: "frame name is not valid UTF-8"))
  }

  @Test func errorCodesAreStableForPrograms() {
    #expect(RPCError.connectionClosed.code == "CONNECTION_CLOSED")
    #expect(RPCError.remote(code: "OVERLOADED", message: "busy").code == "OVERLOADED")
    #expect(RPCError.bindFailed("cannot listen on 127.0.0.1:9862").description.contains("9862"))
  }
}
