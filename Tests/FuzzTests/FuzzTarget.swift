import Foundation
import NIOCore
import NIOPosix
import O3RPC
import OMDomain
import OMProto
import OzoneManager

/// An OM under fuzzing, in this process or a real `o3 om`: where it listens, and the two views
/// of its state the checks compare before and after each input.
protocol FuzzTarget: Sendable {
  var host: String { get }
  var clientPort: Int { get }
  var raftPort: Int { get }
  var httpPort: Int { get }
  /// The request limits the OM validates with (the oracle uses the same).
  var requestLimits: OMRequestLimits { get }
  /// The client port's frame limit (`ozone.om.max.request.bytes`).
  var maxFrameBytes: Int { get }
  /// The Raft peer ids of the group's members.
  var raftMembers: [UInt64] { get }
  /// A digest of every namespace row the OM serves (cache included, so an applied write shows
  /// at once): equal before and after an input that must not write.
  func stateDigest() async throws -> UInt64
  /// The index of the OM's last Raft log entry: a request refused before the log leaves it.
  func lastLogIndex() async throws -> UInt64
  /// Whether the OM is still running (a real process has not exited).
  var isAlive: Bool { get }
}

extension FuzzTarget {
  var group: any EventLoopGroup { FuzzEventLoops.group }

  func rpcClient() async throws -> RPCClient {
    // The client accepts larger frames than the server, so that oversized requests reach it.
    var limits = RPCLimits()
    limits.maxFrameBytes = max(limits.maxFrameBytes, maxFrameBytes * 4)
    return try await RPCClient.connect(host: host, port: clientPort, limits: limits, group: group)
  }

  /// Sends a valid request and returns its status: the check that the OM still serves.
  func submitValid(_ request: OMRequest) async throws -> OMResponse {
    let client = try await rpcClient()
    defer { Task { await client.close() } }
    let reply = try await client.call(method: "om.submitRequest", payload: try request.serializedBytes(), deadline: .seconds(60))
    return try OMResponse(serializedBytes: reply)
  }

  /// Returns once every write proposed before it has been applied: a write that goes through
  /// the log after them and changes nothing (creating the seed volume again).
  func settleWrites() async throws {
    // A fresh client id each time: the retry cache would answer a repeated one without the log.
    var random = FuzzRandom(seed: UInt64.random(in: 1...UInt64.max))
    let response = try await submitValid(OMRequestCorpus.createVolume(OMRequestCorpus.seedVolume, random: &random))
    guard response.status == .volumeAlreadyExists else {
      throw FuzzSetupError("the write barrier was answered \(response.status): \(response.message)")
    }
  }

  /// Creates `fuzzvol/fuzzbucket/fuzzkey`, so that fuzzed requests meet existing objects.
  func createSeedObjects() async throws {
    var random = FuzzRandom(seed: 1)
    let volume = OMRequestCorpus.seedVolume
    let bucket = OMRequestCorpus.seedBucket
    var createKey = CreateKeyRequest()
    createKey.keyArgs = OMRequestCorpus.keyArgs(volume, bucket, OMRequestCorpus.seedKey)
    let setup = [
      OMRequestCorpus.createVolume(volume, random: &random), OMRequestCorpus.createBucket(volume, bucket, random: &random),
      OMRequestCorpus.envelope(.createKey, .createKeyRequest(createKey), random: &random),
    ]
    var clientID: UInt64 = 0
    for request in setup {
      let response = try await submitValid(request)
      guard response.status == .ok else { throw FuzzSetupError("\(request.cmdType) failed: \(response.message)") }
      clientID = response.createKeyResponse.clientID
    }
    var commit = CommitKeyRequest()
    commit.keyArgs = OMRequestCorpus.keyArgs(volume, bucket, OMRequestCorpus.seedKey)
    commit.clientID = clientID
    let committed = try await submitValid(OMRequestCorpus.envelope(.commitKey, .commitKeyRequest(commit), random: &random))
    guard committed.status == .ok else { throw FuzzSetupError("commit failed: \(committed.message)") }
  }
}

/// A fuzz run could not set up its OM.
struct FuzzSetupError: Error, CustomStringConvertible {
  var description: String
  init(_ description: String) { self.description = description }
}

/// FNV-1a over rows, for comparing table contents cheaply.
struct RowDigest {
  private(set) var value: UInt64 = 0xCBF2_9CE4_8422_2325

  mutating func add(_ bytes: some Sequence<UInt8>) {
    for byte in bytes { value = (value ^ UInt64(byte)) &* 0x100_0000_01B3 }
    // A separator, so that ("ab", "c") and ("a", "bc") differ.
    value = (value ^ 0xFF) &* 0x100_0000_01B3
  }
}

/// A directory unique to one test, removed when the test ends.
final class TemporaryDirectory: Sendable {
  let path: String

  init(_ label: String) {
    path = FileManager.default.temporaryDirectory.appendingPathComponent("o3-fuzz-\(label)-\(UUID().uuidString)").path
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  }

  deinit { try? FileManager.default.removeItem(atPath: path) }
}
