import Foundation
import O3Common
import O3TestSupport
import OMDomain
import OMProto
import OzoneManager
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// A real `o3 om` process (single replica) on free ports, started from the `o3` binary built
/// beside the tests and stopped by its own pid; its state is seen only through its ports.
final class RealProcessOM: FuzzTarget, @unchecked Sendable {
  // @unchecked: the ports are set once in `start` before the object is shared; the process and
  // the collected output are thread-safe (Process, Mutex).
  static let maxRequestBytes = 64 * 1024

  let directory: TemporaryDirectory
  let process = Process()
  let output = CollectedText()
  private(set) var clientPort = 0
  private(set) var raftPort = 0
  private(set) var httpPort = 0

  private init(directory: TemporaryDirectory) {
    self.directory = directory
  }

  /// The `o3` binary beside the test bundle, or in the package's build folder.
  static var binaryPath: String {
    let besideRunner = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("o3")
    if FileManager.default.isExecutableFile(atPath: besideRunner.path) { return besideRunner.path }
    let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
    return packageRoot.appendingPathComponent(".build/debug/o3").path
  }

  /// Initialises the storage, starts `o3 om --conf …` with ports 0, and reads the bound ports
  /// from its "OM started" log line.
  static func start(_ label: String) async throws -> RealProcessOM {
    let om = RealProcessOM(directory: TemporaryDirectory(label))
    let values = [
      OzoneConfigKeys.metadataDirs: om.directory.path, OzoneConfigKeys.omAddress: "127.0.0.1:0", "ozone.om.ratis.port": "0",
      OzoneConfigKeys.maxRequestBytes: "\(maxRequestBytes)",
    ]
    try OMStorage(configuration: OzoneConfiguration(values)).initialize()
    let properties = values.sorted { $0.key < $1.key }.map { "<property><name>\($0.key)</name><value>\($0.value)</value></property>" }
    let configurationFile = om.directory.path + "/ozone-site.xml"
    try ("<configuration>" + properties.joined() + "</configuration>\n").write(toFile: configurationFile, atomically: true, encoding: .utf8)
    try om.launch(["om", "--conf", configurationFile])
    try await waitUntil("the OM logged its ports", timeout: .seconds(120)) {
      om.output.text.contains("OM started") || !om.process.isRunning
    }
    guard let started = om.output.text.split(separator: "\n").first(where: { $0.contains("OM started") }),
      let client = port(after: "address=", in: started), let raft = port(after: "raft=", in: started),
      let http = port(after: "http=", in: started)
    else { throw FuzzSetupError("o3 om did not start: \(om.output.text.suffix(2_000))") }
    (om.clientPort, om.raftPort, om.httpPort) = (client, raft, http)
    try await om.createSeedObjects()
    return om
  }

  private func launch(_ arguments: [String]) throws {
    process.executableURL = URL(fileURLWithPath: Self.binaryPath)
    process.arguments = arguments
    process.standardInput = FileHandle.nullDevice
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    let output = self.output
    pipe.fileHandleForReading.readabilityHandler = { output.append(String(decoding: $0.availableData, as: UTF8.self)) }
    try process.run()
  }

  private static func port(after key: String, in line: Substring) -> Int? {
    guard let range = line.range(of: key) else { return nil }
    let address = line[range.upperBound...].prefix { !$0.isWhitespace }
    return address.split(separator: ":").last.flatMap { Int($0) }
  }

  var host: String { "127.0.0.1" }
  var requestLimits: OMRequestLimits { OMRequestLimits() }
  var maxFrameBytes: Int { Self.maxRequestBytes }
  var raftMembers: [UInt64] { [OMServiceConfiguration.peerID(of: "om1").rawValue] }
  var isAlive: Bool { process.isRunning }

  func lastLogIndex() async throws -> UInt64 {
    try await OMAdminClient.roles(at: HostAndPort(host: host, port: clientPort), timeout: .seconds(30)).lastIndex
  }

  /// Every volume, bucket and key as the OM lists them (open and deleted keys are not listable:
  /// this view is weaker than the in-process one, which reads every table).
  func stateDigest() async throws -> UInt64 {
    var digest = RowDigest()
    var random = FuzzRandom(seed: UInt64.random(in: 1...UInt64.max))
    var volumes = ListVolumeRequest()
    volumes.scope = .volumesByCluster
    let volumeList = try await listed(.listVolume, .listVolumeRequest(volumes), random: &random)
    for volume in volumeList.listVolumeResponse.volumeInfo {
      digest.add(try volume.serializedBytes() as [UInt8])
      var buckets = ListBucketsRequest()
      buckets.volumeName = volume.volume
      for bucket in try await listed(.listBuckets, .listBucketsRequest(buckets), random: &random).listBucketsResponse.bucketInfo {
        digest.add(try bucket.serializedBytes() as [UInt8])
        var keys = ListKeysRequest()
        keys.volumeName = volume.volume
        keys.bucketName = bucket.bucketName
        for key in try await listed(.listKeys, .listKeysRequest(keys), random: &random).listKeysResponse.keyInfo {
          digest.add(try key.serializedBytes() as [UInt8])
        }
      }
    }
    return digest.value
  }

  /// One listing page; the fuzzers keep far fewer objects than a page holds.
  private func listed(_ cmdType: CommandType, _ body: OMRequest.OneOf_Body, random: inout FuzzRandom) async throws -> OMResponse {
    let response = try await submitValid(OMRequestCorpus.envelope(cmdType, body, random: &random))
    guard response.status == .ok else { throw FuzzSetupError("\(cmdType) failed: \(response.message)") }
    return response
  }

  /// SIGTERM, and the exit status once the OM has shut down.
  func terminate() -> Int32 {
    if process.isRunning {
      kill(process.processIdentifier, SIGTERM)
      process.waitUntilExit()
    }
    return process.terminationStatus
  }

  deinit {
    if process.isRunning {
      kill(process.processIdentifier, SIGKILL)
      process.waitUntilExit()
    }
  }
}

/// Text appended by one thread (a pipe's reader) and read by another.
final class CollectedText: Sendable {
  private let buffer = Mutex("")

  func append(_ more: String) { buffer.withLock { $0 += more } }
  var text: String { buffer.withLock { $0 } }
}
