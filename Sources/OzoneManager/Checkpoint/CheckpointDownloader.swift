import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import O3RPC
import OMMetadata
import Raft

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The follower's side of `/v2/dbCheckpoint`: fetches the leader's checkpoint into a candidate
/// directory beside the database and verifies it. Installing it (pause, swap, reopen) is the
/// caller's job.
///
/// The SST files of the kept database are offered as held; the leader sends everything else,
/// and the ones it skips are hard-linked from the kept database. Before writing a byte, the
/// checkpoint must be newer than `newerThan` and the free space of the candidate's file system
/// must cover the leader's estimate plus a margin. Any failure removes the candidate directory,
/// leaving the kept database untouched; every failure is an `OMCheckpointError`.
public struct CheckpointDownloader: Sendable {
  /// What the download has reached, for logs, metrics and the status page.
  public enum Progress: Sendable, Equatable {
    /// The manifest arrived: `fetchBytes` will come over the network, `keptBytes` are linked.
    case started(termIndex: TermIndex, fetchBytes: UInt64, keptBytes: UInt64, fileCount: Int)
    /// File contents written so far.
    case received(bytes: UInt64)
  }

  /// Where to fetch from and where to put the result.
  public struct Configuration: Sendable {
    /// The leader's HTTP server (Ozone's `ozone.om.http-address`).
    public var leaderHost: String
    public var leaderPort: Int
    /// `ozone.om.checkpoint.token`, sent as `X-O3-Checkpoint-Token` when set.
    public var token: String?
    /// Emptied, then filled with the checkpoint; keep it on the database's file system so that
    /// the hard links and the later swap are cheap.
    public var candidateDirectory: String
    /// The database whose SSTs are offered as held and linked from (nil: ask for everything).
    public var keptDatabase: String?
    /// A checkpoint at or before this position is refused (`notNewer`) before anything is written.
    public var newerThan: TermIndex?
    /// Free bytes required beyond the leader's estimate (RocksDB's own files, metadata).
    public var spaceMarginBytes: UInt64 = CheckpointDownloader.defaultSpaceMarginBytes
    /// A connection that receives nothing for this long is abandoned.
    public var idleTimeout: TimeAmount = .seconds(60)
    /// The free bytes of the file system holding a path; replaceable for tests.
    public var freeBytes: @Sendable (String) throws -> UInt64 = CheckpointDownloader.freeBytes(at:)
    /// Asked when the answer starts, after every `leadershipCheckIntervalBytes` received and at
    /// the end: false (leadership moved away from the OM sending) abandons the download with
    /// `leaderChanged`. Nil: never asked.
    public var leadershipCheck: (@Sendable () async -> Bool)?
    /// Bytes written between two leadership checks (each costs a hop to the Raft loop).
    public var leadershipCheckIntervalBytes: UInt64 = 1 << 20
    /// Told of the manifest and of the bytes written as they grow.
    public var progress: (@Sendable (Progress) -> Void)?
    /// Sees (and may alter or fail) each received piece of a file before it is checked and
    /// written: the seam fault tests use to corrupt a byte or fill the disk. Nil in production.
    public var fileChunkHook: (@Sendable (_ fileName: String, _ chunk: inout [UInt8]) throws -> Void)?

    public init(leaderHost: String, leaderPort: Int, token: String?, candidateDirectory: String, keptDatabase: String?) {
      self.leaderHost = leaderHost
      self.leaderPort = leaderPort
      self.token = token
      self.candidateDirectory = candidateDirectory
      self.keptDatabase = keptDatabase
    }
  }

  /// Room for what RocksDB writes when it opens the new database (a fresh WAL, MANIFEST,
  /// OPTIONS and LOG), and for the metadata of the files written.
  public static let defaultSpaceMarginBytes: UInt64 = 64 << 20

  public let configuration: Configuration
  private let group: any EventLoopGroup

  public init(configuration: Configuration, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
    self.configuration = configuration
    self.group = group
  }

  /// Downloads and verifies; returns the manifest of the checkpoint now in the candidate directory.
  ///
  /// - Throws: `OMCheckpointError` — `notLeader` (with `leaderAddress`), `forbidden`, `busy`,
  ///   `connectionLost`, `leaderChanged`, `notNewer`, `insufficientSpace`, `verificationFailed`,
  ///   `keptFileUnusable`, `unexpectedResponse`, ...
  public func download() async throws -> OMCheckpointManifest {
    let candidate = configuration.candidateDirectory
    do {
      try? FileManager.default.removeItem(atPath: candidate)
      do {
        try FileManager.default.createDirectory(atPath: candidate, withIntermediateDirectories: true)
      } catch {
        throw CheckpointLocalWriteError.classify(error, doing: "create \(candidate)")
      }
      let held = try heldSSTs()
      do {
        return try await fetch(excluding: held)
      } catch let error as OMCheckpointError {
        throw error
      } catch {
        throw OMCheckpointError(
          .connectionLost,
          "the connection to \(configuration.leaderHost):\(configuration.leaderPort) failed before the checkpoint ended: "
            + ConnectionFailure.describe(error))
      }
    } catch {
      try? FileManager.default.removeItem(atPath: candidate)
      throw error
    }
  }

  /// The kept database's SST files with size and CRC-32C, so the leader leaves out only files
  /// whose contents match (names alone repeat across replicas). A file that vanishes meanwhile
  /// (the kept database may still be compacting) is simply not offered.
  private func heldSSTs() throws -> [OMCheckpointService.HeldFile] {
    guard let kept = configuration.keptDatabase else { return [] }
    let names = ((try? FileManager.default.contentsOfDirectory(atPath: kept)) ?? []).filter { $0.hasSuffix(".sst") }.sorted()
    return names.compactMap { name in
      var sizeBytes: UInt64 = 0
      var crc: UInt32 = 0
      do {
        try OMCheckpointFiles.forEachChunk(of: kept + "/" + name) { chunk in
          sizeBytes += UInt64(chunk.count)
          crc = chunk.withUnsafeBytes { CRC32C.update(crc, $0) }
        }
      } catch {
        return nil
      }
      return OMCheckpointService.HeldFile(name: name, sizeBytes: sizeBytes, crc32c: crc)
    }
  }

  private func fetch(excluding held: [OMCheckpointService.HeldFile]) async throws -> OMCheckpointManifest {
    let body = try JSONEncoder().encode(OMCheckpointService.ExclusionRequest(heldSST: held))
    let idleTimeout = configuration.idleTimeout
    let channel = try await ClientBootstrap(group: group)
      .connectTimeout(.seconds(10))
      .connect(host: configuration.leaderHost, port: configuration.leaderPort) { channel in
        channel.eventLoop.makeCompletedFuture {
          let pipeline = channel.pipeline.syncOperations
          try pipeline.addHandler(IdleStateHandler(readTimeout: idleTimeout))
          try pipeline.addHandler(CloseOnIdleHandler())
          try pipeline.addHTTPClientHandlers()
          return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: channel)
        }
      }
    return try await channel.executeThenClose { inbound, outbound in
      var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: OMCheckpointService.path)
      head.headers.add(name: "Host", value: "\(configuration.leaderHost):\(configuration.leaderPort)")
      head.headers.add(name: "Content-Type", value: "application/json")
      head.headers.add(name: "Content-Length", value: "\(body.count)")
      head.headers.add(name: "Connection", value: "close")
      if let token = configuration.token { head.headers.add(name: OMCheckpointService.tokenHeader, value: token) }
      try await outbound.write(.head(head))
      try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: body))))
      try await outbound.write(.end(nil))
      var writer: CheckpointCandidateWriter?
      var errorBody: [UInt8] = []
      var status: HTTPResponseStatus = .ok
      var responseHeaders = HTTPHeaders()
      var reported = ProgressReport()
      for try await part in inbound {
        switch part {
        case .head(let response):
          status = response.status
          responseHeaders = response.headers
          if status == .ok {
            writer = try prepareWriter(for: response)
            try await checkLeadership()
          }
        case .body(var buffer):
          let bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
          if writer != nil {
            try writer!.consume(bytes)
            try await report(writer!, &reported)
          } else if errorBody.count < 4096 {
            errorBody += bytes.prefix(4096 - errorBody.count)
          }
        case .end:
          guard var writer else { throw Self.refusal(status, body: errorBody, headers: responseHeaders) }
          try await checkLeadership()
          return try writer.finish()
        }
      }
      throw OMCheckpointError(.connectionLost, "the leader closed the connection before the checkpoint ended")
    }
  }

  /// What has been told to `progress` and when leadership was last checked.
  private struct ProgressReport {
    var started = false
    var writtenBytes: UInt64 = 0
    var checkedAtBytes: UInt64 = 0
  }

  private func report(_ writer: CheckpointCandidateWriter, _ reported: inout ProgressReport) async throws {
    if !reported.started, let manifest = writer.manifest {
      reported.started = true
      configuration.progress?(
        .started(
          termIndex: TermIndex(term: manifest.term, index: manifest.index), fetchBytes: manifest.estimatedTransferBytes,
          keptBytes: writer.linkedBytes, fileCount: manifest.files.count))
    }
    guard writer.writtenBytes > reported.writtenBytes else { return }
    reported.writtenBytes = writer.writtenBytes
    configuration.progress?(.received(bytes: writer.writtenBytes))
    if writer.writtenBytes - reported.checkedAtBytes >= configuration.leadershipCheckIntervalBytes {
      reported.checkedAtBytes = writer.writtenBytes
      try await checkLeadership()
    }
  }

  private func checkLeadership() async throws {
    guard let check = configuration.leadershipCheck, !(await check()) else { return }
    throw OMCheckpointError(
      .leaderChanged,
      "leadership moved away from \(configuration.leaderHost):\(configuration.leaderPort) while it sent its checkpoint")
  }

  /// Checks the response head and the free space; the candidate writer for a 200.
  private func prepareWriter(for response: HTTPResponseHead) throws -> CheckpointCandidateWriter {
    guard let termIndexText = response.headers.first(name: OMCheckpointService.termIndexHeader),
      let termIndex = TermIndex(encoded: Array(termIndexText.utf8)),
      let estimateText = response.headers.first(name: OMCheckpointService.estimatedBytesHeader),
      let estimate = UInt64(estimateText)
    else {
      throw OMCheckpointError(.unexpectedResponse, "the leader's answer lacks the checkpoint's term#index or size estimate")
    }
    if let newerThan = configuration.newerThan, termIndex.index <= newerThan.index {
      throw OMCheckpointError(.notNewer, "the leader's checkpoint is at \(termIndex), this OM already has \(newerThan)")
    }
    let required = estimate + configuration.spaceMarginBytes
    let free: UInt64
    do {
      free = try configuration.freeBytes(configuration.candidateDirectory)
    } catch {
      throw CheckpointLocalWriteError.classify(error, doing: "read the free space of \(configuration.candidateDirectory)")
    }
    guard free >= required else {
      throw OMCheckpointError(
        .insufficientSpace,
        "not enough free space in \(configuration.candidateDirectory): \(free) bytes free, \(required) needed "
          + "(\(estimate) to fetch + \(configuration.spaceMarginBytes) margin)")
    }
    return CheckpointCandidateWriter(
      directory: configuration.candidateDirectory, keptDatabase: configuration.keptDatabase, expectedTermIndex: termIndex,
      fileChunkHook: configuration.fileChunkHook)
  }

  private static func refusal(_ status: HTTPResponseStatus, body: [UInt8], headers: HTTPHeaders) -> OMCheckpointError {
    let text = String(decoding: body, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    switch status {
    case .forbidden: return OMCheckpointError(.forbidden, "the leader refused this OM: \(text)")
    case .tooManyRequests: return OMCheckpointError(.busy, "the leader is busy: \(text)")
    case .serviceUnavailable:
      return OMCheckpointError(
        .notLeader, "the OM asked is not the leader: \(text)",
        leaderAddress: headers.first(name: OMCheckpointService.leaderAddressHeader))
    default: return OMCheckpointError(.unexpectedResponse, "the leader answered \(status.code): \(text)")
    }
  }

  /// The bytes an unprivileged process may still write on the file system holding `path`
  /// (statvfs: available blocks times the fragment size; the root reserve is not counted).
  public static func freeBytes(at path: String) throws -> UInt64 {
    var stats = statvfs()
    guard statvfs(path, &stats) == 0 else {
      throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
    }
    return UInt64(stats.f_bavail) * UInt64(stats.f_frsize)
  }
}

/// Closes the connection when the idle-state handler reports a read timeout.
private final class CloseOnIdleHandler: ChannelInboundHandler, Sendable {
  typealias InboundIn = NIOAny

  func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
    if case IdleStateHandler.IdleStateEvent.read = event {
      context.close(promise: nil)
      return
    }
    context.fireUserInboundEventTriggered(event)
  }
}
