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
  // @unchecked: the process and the ports are set once in `start` before the object is shared;
  // ManagedProcess is thread-safe.
  static let maxRequestBytes = 64 * 1024

  let directory: TemporaryDirectory
  private(set) var process: ManagedProcess?
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
    try await OMStorage(configuration: OzoneConfiguration(values)).initialize()
    let properties = values.sorted { $0.key < $1.key }.map { "<property><name>\($0.key)</name><value>\($0.value)</value></property>" }
    let configurationFile = om.directory.path + "/ozone-site.xml"
    try await writeTextFile("<configuration>" + properties.joined() + "</configuration>\n", to: configurationFile)
    om.process = try await ManagedProcess.start(
      executable: binaryPath, arguments: ["om", "--conf", configurationFile], output: .collected)
    try await waitUntil("the OM logged its ports", timeout: .seconds(120)) {
      om.outputText.contains("OM started") || !om.isAlive
    }
    guard let started = om.outputText.split(separator: "\n").first(where: { $0.contains("OM started") }),
      let client = port(after: "address=", in: started), let raft = port(after: "raft=", in: started),
      let http = port(after: "http=", in: started)
    else { throw FuzzSetupError("o3 om did not start: \(om.outputText.suffix(2_000))") }
    (om.clientPort, om.raftPort, om.httpPort) = (client, raft, http)
    try await om.createSeedObjects()
    return om
  }

  /// Everything the OM wrote so far (standard output, then standard error).
  var outputText: String { (process?.standardOutput ?? "") + (process?.standardError ?? "") }

  private static func port(after key: String, in line: Substring) -> Int? {
    guard let range = line.range(of: key) else { return nil }
    let address = line[range.upperBound...].prefix { !$0.isWhitespace }
    return address.split(separator: ":").last.flatMap { Int($0) }
  }

  var host: String { "127.0.0.1" }
  var requestLimits: OMRequestLimits { OMRequestLimits() }
  var maxFrameBytes: Int { Self.maxRequestBytes }
  var raftMembers: [UInt64] { [OMServiceConfiguration.peerID(of: "om1").rawValue] }
  var isAlive: Bool { process?.isRunning ?? false }

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

  /// SIGTERM, and the exit status once the OM has shut down (nil if it had to be killed).
  func terminate() async -> Int32? {
    await process?.terminate()
  }
}
