/// What an O3RPC server must do with a byte stream, worked out from the wire format in
/// Sources/O3RPC/Frame.swift without using O3RPC's code: a dumb reference the server is held to.
///
/// Frames are `u32 length | kind u8 | callId u64 | deadline u32 | nameLength u8 | name | payload`.
/// A length over the limit, or a frame too short to hold a call id, ends the connection (the
/// server closes it); every other complete frame gets exactly one reply; a frame cut off by the
/// end of what was sent gets nothing.
struct O3RPCStreamModel {
  /// A complete frame as the server must see it.
  enum Frame: Equatable {
    /// The header is wrong but names a call: an error reply MALFORMED_REQUEST.
    case malformed(callId: UInt64, reason: String)
    /// A well-formed request: its reply depends on the method.
    case request(callId: UInt64, method: String, payload: [UInt8])

    var callId: UInt64 {
      switch self {
      case .malformed(let callId, _), .request(let callId, _, _): callId
      }
    }
  }

  /// The complete frames before the end of the stream or the fatal one, in order.
  private(set) var frames: [Frame] = []
  /// Why the server must close the connection, if it must.
  private(set) var fatalError: String?
  /// Bytes of a last frame that did not arrive whole (no reply is due for it).
  private(set) var trailingBytes = 0

  init(stream: [UInt8], maxFrameBytes: Int) {
    var position = 0
    while position < stream.count {
      guard stream.count - position >= 4 else {
        trailingBytes = stream.count - position
        return
      }
      let length = Int(Self.bigEndian(stream, at: position, width: 4))
      guard length <= maxFrameBytes else {
        fatalError = "declared length \(length) over the limit \(maxFrameBytes)"
        return
      }
      guard stream.count - position - 4 >= length else {
        trailingBytes = stream.count - position
        return
      }
      let body = Array(stream[(position + 4)..<(position + 4 + length)])
      position += 4 + length
      guard let frame = Self.frame(body) else {
        fatalError = "a frame of \(length) bytes is too short for a call id"
        return
      }
      frames.append(frame)
    }
  }

  private static func frame(_ body: [UInt8]) -> Frame? {
    guard body.count >= 9 else { return nil }
    let callId = bigEndian(body, at: 1, width: 8)
    let kind = body[0]
    guard (1...3).contains(kind) else { return .malformed(callId: callId, reason: "unknown kind \(kind)") }
    guard body.count >= 14 else { return .malformed(callId: callId, reason: "header truncated") }
    let nameLength = Int(body[13])
    guard body.count >= 14 + nameLength else { return .malformed(callId: callId, reason: "name truncated") }
    guard let name = String(validating: body[14..<(14 + nameLength)], as: UTF8.self) else {
      return .malformed(callId: callId, reason: "name not UTF-8")
    }
    guard kind == 1 else { return .malformed(callId: callId, reason: "not a request") }
    guard !name.isEmpty else { return .malformed(callId: callId, reason: "no method") }
    return .request(callId: callId, method: name, payload: Array(body[(14 + nameLength)...]))
  }

  static func bigEndian(_ bytes: [UInt8], at position: Int, width: Int) -> UInt64 {
    bytes[position..<(position + width)].reduce(0) { $0 << 8 | UInt64($1) }
  }
}

/// Building request frames byte by byte, and reading the server's replies.
enum O3RPCWire {
  /// A request frame; `method` is raw bytes so that it can be invalid UTF-8 or lie about its
  /// length.
  static func request(
    callId: UInt64, method: [UInt8], payload: [UInt8], deadlineMilliseconds: UInt32 = 0, kind: UInt8 = 1
  ) -> [UInt8] {
    let name = Array(method.prefix(255))
    var body: [UInt8] = [kind] + integer(callId, width: 8) + integer(UInt64(deadlineMilliseconds), width: 4)
    body += [UInt8(name.count)] + name + payload
    return integer(UInt64(body.count), width: 4) + body
  }

  static func integer(_ value: UInt64, width: Int) -> [UInt8] {
    (0..<width).map { UInt8(truncatingIfNeeded: value >> UInt64(8 * (width - 1 - $0))) }
  }

  /// One reply frame from the server.
  struct Reply: Equatable {
    var kind: UInt8
    var callId: UInt64
    var deadlineMilliseconds: UInt32
    var name: String
    var payload: [UInt8]
  }

  /// The complete replies in `bytes`; nil when the bytes are not a sequence of well-formed
  /// reply frames (a finding: the server must only send well-formed frames).
  static func replies(_ bytes: [UInt8]) -> [Reply]? {
    var replies: [Reply] = []
    var position = 0
    while bytes.count - position >= 4 {
      let length = Int(O3RPCStreamModel.bigEndian(bytes, at: position, width: 4))
      guard bytes.count - position - 4 >= length else { break }
      let body = Array(bytes[(position + 4)..<(position + 4 + length)])
      position += 4 + length
      guard body.count >= 14, body.count >= 14 + Int(body[13]),
        let name = String(validating: body[14..<(14 + Int(body[13]))], as: UTF8.self)
      else { return nil }
      replies.append(
        Reply(
          kind: body[0], callId: O3RPCStreamModel.bigEndian(body, at: 1, width: 8),
          deadlineMilliseconds: UInt32(O3RPCStreamModel.bigEndian(body, at: 9, width: 4)), name: name,
          payload: Array(body[(14 + Int(body[13]))...])))
    }
    return replies
  }
}
