// O3RPC: framed request/response calls over one TCP connection, on SwiftNIO.
//
// O3RPC moves opaque payload bytes; it knows nothing of protobuf, Raft or the OM. DESIGN.md §3b
// explains why it is not gRPC: per-call work stays on the event loop (handlers and futures), and
// async/await is crossed only at the edges.
//
// Wire format (every integer big-endian):
//
//     offset  bytes  field                 meaning
//     0       4      frameLength           bytes after this field, ≤ RPCLimits.maxFrameBytes
//     4       1      kind                  1 request, 2 response, 3 error
//     5       8      callId                chosen by the client, unique while outstanding
//     13      4      deadlineMilliseconds  requests: time left when sent, 0 = none; replies: 0
//     17      1      nameLength            n
//     18      n      name                  request: method, UTF-8, 1...255 bytes ("om.submit");
//                                          error: error code ("UNKNOWN_METHOD"); response: empty
//     18+n    rest   payload               request or response bytes; error: UTF-8 message
//
// The header is fixed binary fields rather than a protobuf message: it is parsed once per call on
// the event loop, and reading five integers costs less than decoding a message.
//
// A connection carries any number of outstanding calls; replies come back in any order and are
// matched by call id. Deadlines travel as time remaining (not a wall-clock instant) so that clocks
// of client and server need not agree.
//
// Bad input never crashes and never makes the server allocate what a peer claims:
// * a declared frameLength above the limit is refused before any of the frame is buffered, and the
//   connection is closed (RPCFrameDecoder);
// * a frame too short to hold a call id closes the connection (there is nobody to answer);
// * any other malformed request gets an error reply (MALFORMED_REQUEST) naming what was wrong.

import NIOCore

/// What a frame is: a request, a successful response, or an error reply.
enum RPCFrameKind: UInt8, Sendable {
  case request = 1
  case response = 2
  case error = 3
}

/// The decoded header of one frame; the payload follows it.
struct RPCFrameHeader: Sendable, Equatable {
  var kind: RPCFrameKind
  var callId: UInt64
  /// Time left for the call when it was sent; 0 means no deadline. Always 0 in replies.
  var deadlineMilliseconds: UInt32
  /// The method of a request, the error code of an error reply, empty in a response.
  var name: String
}

/// The result of parsing one length-delimited frame.
enum RPCFrameParseResult: Sendable, Equatable {
  /// A well-formed frame.
  case frame(RPCFrameHeader, payload: ByteBuffer)
  /// The call id could be read but the rest is wrong: the peer can be told which call failed.
  case malformed(callId: UInt64, reason: String)
  /// Not even a call id: the only safe answer is to close the connection.
  case unreadable(reason: String)
}

/// Encoding and decoding of frames (the layout is in this file's header comment).
enum RPCFrame {
  static let lengthFieldBytes = 4
  /// kind + callId + deadlineMilliseconds + nameLength.
  static let fixedHeaderBytes = 1 + 8 + 4 + 1
  static let maxNameBytes = Int(UInt8.max)
  /// Error messages are for people: a long one is cut rather than sent whole.
  static let maxErrorMessageBytes = 4096

  /// Bytes after the length field for a frame with this name and payload size.
  static func frameLength(nameBytes: Int, payloadBytes: Int) -> Int {
    fixedHeaderBytes + nameBytes + payloadBytes
  }

  /// Writes the length field and the header; the caller writes `payloadBytes` of payload next.
  static func writeHeader(
    _ header: RPCFrameHeader, payloadBytes: Int, into buffer: inout ByteBuffer
  ) {
    let nameBytes = header.name.utf8.count
    precondition(nameBytes <= maxNameBytes, "frame name longer than \(maxNameBytes) bytes")
    let length = frameLength(nameBytes: nameBytes, payloadBytes: payloadBytes)
    precondition(length <= Int(UInt32.max), "frame length \(length) does not fit the length field")
    buffer.writeInteger(UInt32(length))
    buffer.writeInteger(header.kind.rawValue)
    buffer.writeInteger(header.callId)
    buffer.writeInteger(header.deadlineMilliseconds)
    buffer.writeInteger(UInt8(nameBytes))
    buffer.writeString(header.name)
  }

  /// Parses one frame as delivered by RPCFrameDecoder (without its length field).
  static func parse(_ frame: ByteBuffer) -> RPCFrameParseResult {
    var frame = frame
    guard let kindByte = frame.readInteger(as: UInt8.self),
      let callId = frame.readInteger(as: UInt64.self)
    else {
      return .unreadable(
        reason: "frame of \(frame.writerIndex) bytes is too short to hold a call id")
    }
    guard let kind = RPCFrameKind(rawValue: kindByte) else {
      return .malformed(callId: callId, reason: "unknown frame kind \(kindByte)")
    }
    guard let deadlineMilliseconds = frame.readInteger(as: UInt32.self),
      let nameBytes = frame.readInteger(as: UInt8.self)
    else {
      return .malformed(callId: callId, reason: "frame header truncated after the call id")
    }
    let name: String
    do {
      guard let decoded = try frame.readUTF8ValidatedString(length: Int(nameBytes)) else {
        return .malformed(
          callId: callId, reason: "frame header truncated: name of \(nameBytes) bytes announced")
      }
      name = decoded
    } catch {
      return .malformed(callId: callId, reason: "frame name is not valid UTF-8")
    }
    let header = RPCFrameHeader(
      kind: kind, callId: callId, deadlineMilliseconds: deadlineMilliseconds, name: name)
    return .frame(header, payload: frame)
  }

  /// Cuts `text` to at most `maxBytes` of UTF-8 without splitting a character.
  static func truncated(_ text: String, maxBytes: Int) -> String {
    guard text.utf8.count > maxBytes else { return text }
    var result = ""
    var bytes = 0
    for character in text {
      let characterBytes = character.utf8.count
      guard bytes + characterBytes <= maxBytes else { break }
      result.append(character)
      bytes += characterBytes
    }
    return result
  }

  /// A complete encoded frame in one buffer: length field, header and payload.
  static func encode(
    _ header: RPCFrameHeader, payload: ByteBuffer, allocator: ByteBufferAllocator
  ) -> ByteBuffer {
    let nameBytes = header.name.utf8.count
    var buffer = allocator.buffer(
      capacity: lengthFieldBytes
        + frameLength(nameBytes: nameBytes, payloadBytes: payload.readableBytes))
    writeHeader(header, payloadBytes: payload.readableBytes, into: &buffer)
    var payload = payload
    buffer.writeBuffer(&payload)
    return buffer
  }

  /// An error reply for `callId`, with the code and message cut to their limits.
  static func encodeError(
    callId: UInt64, _ error: RPCRemoteError, allocator: ByteBufferAllocator
  ) -> ByteBuffer {
    let header = RPCFrameHeader(
      kind: .error, callId: callId, deadlineMilliseconds: 0,
      name: truncated(error.code, maxBytes: maxNameBytes))
    let message = truncated(error.message, maxBytes: maxErrorMessageBytes)
    var payload = allocator.buffer(capacity: message.utf8.count)
    payload.writeString(message)
    return encode(header, payload: payload, allocator: allocator)
  }
}
