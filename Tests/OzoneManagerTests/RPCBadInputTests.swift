import Foundation
import NIOCore
import O3RPC
import OMMetadata
import OMProto
import OzoneClient
import OzoneManager
import SwiftProtobuf
import O3TestSupport
import Testing

/// Bad input over the wire, against a real OM: every payload that is not a valid request gets
/// its specific OMResponse status, a frame that breaks the protocol closes only its connection,
/// and in every case the OM keeps serving and its database does not change by one byte.
@Suite(.watchdog) struct RPCBadInputTests {
  /// A payload sent as the body of `om.submitRequest`, with the status it must get.
  enum BadPayload: String, CaseIterable, Sendable {
    case garbage, truncated, unknownField, mismatchedBody, noBody, empty, unknownCommand
    case keyNameTooLongOnWrite, keyNameTooLongOnRead, deleteKeysOverTheLimit, invalidVolumeName, invalidUTF8

    var expectedStatus: Status {
      switch self {
      case .keyNameTooLongOnWrite, .keyNameTooLongOnRead: .invalidKeyName
      case .invalidVolumeName: .invalidVolumeName
      default: .invalidRequest
      }
    }

    func bytes() throws -> [UInt8] {
      let valid: [UInt8] = try Requests.createVolume("vol2").serializedBytes()
      switch self {
      case .garbage: return [0xFF, 0xFE, 0xFD, 0x00, 0x13, 0x37]
      case .truncated: return Array(valid.dropLast(2))
      case .unknownField: return BadInputTests.appendingUnknownField(to: valid)
      case .mismatchedBody:
        var request = Requests.createVolume("vol2")
        request.cmdType = .deleteVolume
        return try request.serializedBytes()
      case .noBody:
        var request = Requests.createVolume("vol2")
        request.body = nil
        return try request.serializedBytes()
      case .empty: return []
      case .unknownCommand:
        var request = Requests.createVolume("vol2")
        request.cmdType = .UNRECOGNIZED(4242)
        return try request.serializedBytes()
      case .keyNameTooLongOnWrite:
        return try Requests.createKey("vol1", "bucket1", String(repeating: "k", count: 4_097)).serializedBytes()
      case .keyNameTooLongOnRead:
        return try Requests.lookupKey("vol1", "bucket1", String(repeating: "k", count: 60_000)).serializedBytes()
      case .deleteKeysOverTheLimit:
        return try Requests.deleteKeys("vol1", "bucket1", (0..<1_001).map { "k\($0)" }).serializedBytes()
      case .invalidVolumeName: return try Requests.createVolume("Vol2").serializedBytes()
      case .invalidUTF8:
        // protobuf strings must be UTF-8: "XY" in the key name becomes the invalid pair C3 28.
        var bytes: [UInt8] = try Requests.createKey("vol1", "bucket1", "XY").serializedBytes()
        let at = try #require(bytes.indices.first { bytes[$0...].starts(with: Array("XY".utf8)) })
        bytes.replaceSubrange(at..<at + 2, with: [0xC3, 0x28])
        return bytes
      }
    }
  }

  /// Creates vol1/bucket1/key1 through a real client, so that the database is not empty.
  private func populate(_ om: RunningOM) async throws {
    let client = try await om.client()
    try await client.createVolume("vol1")
    try await client.createBucket(Requests.bucketInfo("vol1", "bucket1"))
    try await client.putKey("vol1", "bucket1", "key1", dataSize: 10)
    await client.close()
  }

  @Test(arguments: BadPayload.allCases)
  func aBadPayloadGetsItsStatusAndChangesNothing(payload: BadPayload) async throws {
    let om = try await RunningOM.start()
    try await populate(om)
    let before = try om.rows()
    let rpc = try await om.rpcClient()
    let response = try await rpc.submitRaw(try payload.bytes())
    #expect(response.status == payload.expectedStatus, "\(payload): \(response.message)")
    #expect(!response.message.isEmpty)
    let info = try await rpc.submit(Requests.infoVolume("vol1"))
    #expect(info.status == .ok, "the same connection keeps serving")
    #expect(info.infoVolumeResponse.volumeInfo.usedNamespace == 1)
    #expect(try om.rows() == before, "not one byte of the database changed, the applied index included")
    #expect(om.fatalErrors.recorded.isEmpty)
    await rpc.close()
    await om.shutdown()
  }

  @Test func anUnknownMethodIsUnknownMethod() async throws {
    let om = try await RunningOM.start()
    let rpc = try await om.rpcClient()
    let error = await #expect(throws: RPCError.self) {
      try await rpc.call(method: "om.noSuchMethod", payload: try Requests.infoVolume("vol1").serializedBytes(), deadline: .seconds(60))
    }
    #expect(error?.code == RPCRemoteError.unknownMethodCode)
    #expect(try await rpc.submit(Requests.listVolumes()).status == .ok, "the connection still serves")
    await rpc.close()
    await om.shutdown()
  }

  /// A request just under `ozone.om.max.request.bytes` is read and answered with a precise
  /// status; one over it is refused before it is buffered and its connection closed, while other
  /// connections and new ones carry on.
  @Test func anOversizedFrameClosesOnlyItsConnection() async throws {
    let om = try await RunningOM.start()
    try await populate(om)
    let before = try om.rows()
    let bystander = try await om.rpcClient()
    let sender = try await om.rpcClient()
    let nearLimit = try await sender.submit(
      Requests.createKey("vol1", "bucket1", String(repeating: "k", count: RunningOM.maxRequestBytes - 200)))
    #expect(nearLimit.status == .invalidKeyName)
    let oversized = Requests.createKey("vol1", "bucket1", String(repeating: "k", count: RunningOM.maxRequestBytes))
    await #expect(throws: RPCError.self) {
      try await sender.submit(oversized)
    }
    #expect(try await bystander.submit(Requests.infoBucket("vol1", "bucket1")).status == .ok)
    let fresh = try await om.rpcClient()
    #expect(try await fresh.submit(Requests.lookupKey("vol1", "bucket1", "key1")).status == .ok)
    #expect(try om.rows() == before)
    #expect(om.fatalErrors.recorded.isEmpty)
    for client in [bystander, sender, fresh] { await client.close() }
    await om.shutdown()
  }

  /// Bytes that are not an O3RPC frame at all: a declared length over the limit, a frame too
  /// short to hold a call id, a frame cut off by the end of the stream.
  @Test(arguments: [
    ("declares 4 GiB", [UInt8]([0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0x02])),
    ("declares over the limit", [UInt8]([0x00, 0x01, 0x00, 0x01]) + Array(repeating: 0, count: 64)),
    ("too short for a call id", [UInt8]([0x00, 0x00, 0x00, 0x03, 0x01, 0x00, 0x00])),
    ("cut off", [UInt8]([0x00, 0x00, 0x00, 0x40, 0x01, 0x00, 0x00, 0x00])),
  ])
  func aBrokenFrameEndsItsConnectionAndNothingElse(name: String, bytes: [UInt8]) async throws {
    let om = try await RunningOM.start()
    try await populate(om)
    let before = try om.rows()
    let outcome = try await RawConnection.send(bytes, to: om.server.port, halfClose: true, group: om.group)
    #expect(outcome.closedByServer, "\(name): the server ended the connection")
    let rpc = try await om.rpcClient()
    #expect(try await rpc.submit(Requests.lookupKey("vol1", "bucket1", "key1")).status == .ok)
    #expect(try om.rows() == before)
    #expect(om.fatalErrors.recorded.isEmpty)
    await rpc.close()
    await om.shutdown()
  }

  /// A frame whose header is readable but wrong gets an error reply naming the call.
  @Test func aMalformedHeaderGetsAnErrorReply() async throws {
    let om = try await RunningOM.start()
    // kind 1 (request), call id 7, no deadline, a method name of length 0, no payload.
    let frame: [UInt8] = [0x00, 0x00, 0x00, 0x0E, 0x01] + [0, 0, 0, 0, 0, 0, 0, 7] + [0, 0, 0, 0] + [0x00]
    let outcome = try await RawConnection.send(frame, to: om.server.port, halfClose: true, group: om.group)
    #expect(outcome.received.count > 4 + 14, "an error frame came back")
    #expect(outcome.received.dropFirst(4).first == 3, "kind 3: an error reply")
    #expect(Array(outcome.received.dropFirst(5).prefix(8)) == [0, 0, 0, 0, 0, 0, 0, 7], "for call 7")
    #expect(String(decoding: outcome.received, as: UTF8.self).contains(RPCRemoteError.malformedRequestCode))
    await om.shutdown()
  }
}
