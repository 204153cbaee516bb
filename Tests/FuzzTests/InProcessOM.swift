import Foundation
import Logging
import NIOPosix
import O3Common
import OMDomain
import OMMetadata
import OzoneManager
import Synchronization

/// A single-replica OM in this process on free ports, with a small request limit so that
/// "too large" is cheap to reach, and its logs quiet (fuzzing makes it warn on every input).
final class InProcessOM: FuzzTarget {
  /// `ozone.om.max.request.bytes` for fuzzing: 64 KiB.
  static let maxRequestBytes = 64 * 1024

  let directory: TemporaryDirectory
  let server: OzoneManagerServer
  let fatalErrors: FatalErrors
  let raftPort: Int

  private init(directory: TemporaryDirectory, server: OzoneManagerServer, fatalErrors: FatalErrors, raftPort: Int) {
    self.directory = directory
    self.server = server
    self.fatalErrors = fatalErrors
    self.raftPort = raftPort
  }

  static func start(_ label: String) async throws -> InProcessOM {
    let directory = TemporaryDirectory(label)
    let settings = try OzoneManagerServer.Settings(
      configuration: OzoneConfiguration([
        OzoneConfigKeys.metadataDirs: directory.path, OzoneConfigKeys.omAddress: "127.0.0.1:0",
        "ozone.om.ratis.port": "0", OzoneConfigKeys.maxRequestBytes: "\(maxRequestBytes)",
      ]))
    try await settings.storage.initialize()
    let fatalErrors = FatalErrors()
    let server = try await OzoneManagerServer.start(
      settings: settings, group: FuzzEventLoops.group, logger: quietLogger("om"),
      onFatalError: fatalErrors.record)
    guard let raftAddress = await server.status()?.raftAddress, let raftPort = Int(raftAddress.split(separator: ":").last ?? "")
    else {
      await server.shutdown()
      throw FuzzSetupError("the OM does not report its Raft port")
    }
    let om = InProcessOM(directory: directory, server: server, fatalErrors: fatalErrors, raftPort: raftPort)
    try await om.createSeedObjects()
    return om
  }

  var host: String { "127.0.0.1" }
  var clientPort: Int { server.port }
  var httpPort: Int { server.httpPort }
  var requestLimits: OMRequestLimits { server.settings.requestLimits }
  var maxFrameBytes: Int { server.settings.rpcLimits.maxFrameBytes }
  var isAlive: Bool { fatalErrors.recorded.isEmpty }
  var raftMembers: [UInt64] { server.settings.service.nodes.map(\.peerID.rawValue) }

  func stateDigest() async throws -> UInt64 { try Self.digest(server.store) }

  func lastLogIndex() async throws -> UInt64 {
    guard let status = await server.raft.status() else { throw FuzzSetupError("the OM's Raft server stopped") }
    return status.core.lastIndex
  }

  func shutdown() async { await server.shutdown() }

  /// Every row of the namespace tables, read through their caches (what apply left, flushed or
  /// not), in key order.
  static func digest(_ store: OMMetadataStore) throws -> UInt64 {
    var digest = RowDigest()
    func add<Value>(_ table: TypedTable<Value>) throws {
      digest.add(table.name.rawValue.utf8)
      for row in try table.list(prefix: [], startAfter: nil, limit: Int.max - 1).rows {
        digest.add(row.key)
        digest.add(try row.value.serializedBytes() as [UInt8])
      }
    }
    try add(store.volumeTable)
    try add(store.bucketTable)
    try add(store.keyTable)
    try add(store.openKeyTable)
    try add(store.deletedTable)
    return digest.value
  }
}

/// Logs only what is critical: fuzzing makes the OM warn about every refused input.
func quietLogger(_ label: String) -> Logger {
  var logger = Logger(label: "o3.fuzz.\(label)")
  logger.logLevel = ProcessInfo.processInfo.environment["O3_TEST_LOG"] == nil ? .critical : .debug
  return logger
}

/// The fatal errors an in-process OM reported (apply, flush or log failures): any is a finding.
final class FatalErrors: Sendable {
  private let errors = Mutex<[String]>([])

  var record: @Sendable (Error) -> Void { { [self] error in self.errors.withLock { $0.append("\(error)") } } }
  var recorded: [String] { errors.withLock { $0 } }
}
