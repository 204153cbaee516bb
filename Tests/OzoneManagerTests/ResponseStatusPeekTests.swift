import OMProto
import SwiftProtobuf
import O3TestSupport
import Testing

/// The leader reads a write's status from the state machine's serialized answer without
/// decoding it; the peek must agree with a full decode and refuse malformed bytes.
@Suite(.watchdog) struct ResponseStatusPeekTests {
  @Test(arguments: [Status.ok, .volumeNotFound, .keyNotFound, .unspecified])
  func thePeekAgreesWithAFullDecode(status: Status) throws {
    var response = OMResponse()
    response.cmdType = .createKey
    response.status = status
    response.message = String(repeating: "m", count: 300)
    response.leaderAddress = "127.0.0.1:9862"
    var created = CreateKeyResponse()
    created.clientID = 12_345_678_901
    var info = KeyInfo()
    info.keyName = "k"
    info.dataSize = 4096
    created.keyInfo = info
    response.createKeyResponse = created
    let bytes: [UInt8] = try response.serializedBytes()
    #expect(OMResponse.status(inSerialized: bytes) == status)
    #expect(try OMResponse(serializedBytes: bytes).status == status)
  }

  @Test func malformedBytesHaveNoStatus() throws {
    var response = OMResponse()
    response.status = .ok
    response.message = "hello"
    let bytes: [UInt8] = try response.serializedBytes()
    #expect(OMResponse.status(inSerialized: Array(bytes.dropLast())) == nil, "a truncated string")
    #expect(OMResponse.status(inSerialized: [0x10, 0x80]) == nil, "a truncated varint")
    #expect(OMResponse.status(inSerialized: [0x13]) == nil, "wire type 3 (groups) is not ours")
    #expect(OMResponse.status(inSerialized: []) == .unspecified, "an empty message is all defaults")
  }
}
