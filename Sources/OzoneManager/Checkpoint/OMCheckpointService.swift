import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOFileSystem
import O3Service
import OMMetadata
import Synchronization

/// The leader's `/v2/dbCheckpoint` endpoint: a consistent copy of om.db, streamed as a tar.
///
/// Wire format (GET or POST): `200 application/x-tar`, chunked. The first tar entry is
/// `OMCheckpointManifest.entryName` (JSON: every file with size and CRC-32C, the checkpoint's
/// term#index, the bytes sent); the files marked `sent` follow, then the end-of-archive blocks.
/// The same figures ride in the headers `X-O3-Checkpoint-Term-Index` and
/// `X-O3-Checkpoint-Estimated-Bytes`, so that a follower can check free space before reading.
///
/// The follower names the SST files it holds in a JSON body `{"excludeSST": ["000012.sst"]}`
/// or in the query (`?toExcludeSST=000012.sst&toExcludeSST=...`); only `.sst` names are
/// honoured, since every other RocksDB file changes between checkpoints.
///
/// Only OMs of the service may ask: with `ozone.om.checkpoint.token` configured, the request
/// must carry it in `X-O3-Checkpoint-Token`; without it, only loopback peers are served (the
/// OM's RPC port already serves all metadata to local processes, so this exposes nothing new,
/// and a multi-host service must configure the token). Anyone else gets 403. A non-leader
/// answers 503 with `X-O3-Leader-Address` when it knows the leader.
public final class OMCheckpointService: Sendable {
  public static let path = "/v2/dbCheckpoint"
  public static let tokenConfigurationKey = "ozone.om.checkpoint.token"
  public static let tokenHeader = "X-O3-Checkpoint-Token"
  public static let leaderAddressHeader = "X-O3-Leader-Address"
  public static let termIndexHeader = "X-O3-Checkpoint-Term-Index"
  public static let estimatedBytesHeader = "X-O3-Checkpoint-Estimated-Bytes"

  /// Whether this OM may serve a checkpoint.
  public enum Leadership: Sendable {
    case leader
    /// The address (host:port of the leader's HTTP server) to redirect to, when known.
    case notLeader(leaderAddress: String?)
  }

  /// The exclusion list in a POST body. `heldSST` names each file the follower holds with its
  /// size and CRC-32C: only a file that matches all three is left out, because every replica
  /// numbers its own RocksDB files and the same name on two replicas is usually another file.
  /// `excludeSST` (names only, as Ozone's `toExcludeSST`) trusts the name alone.
  struct ExclusionRequest: Codable {
    var excludeSST: [String] = []
    var heldSST: [HeldFile]?
  }

  /// An SST file a follower holds.
  struct HeldFile: Codable, Hashable {
    var name: String
    var sizeBytes: UInt64
    var crc32c: UInt32
  }

  /// Which files the follower already has.
  struct Exclusions: Sendable {
    var names: Set<String> = []
    var held: [String: HeldFile] = [:]

    /// Whether `file` need not be sent.
    func skips(name: String, sizeBytes: UInt64, crc32c: UInt32) -> Bool {
      guard name.hasSuffix(".sst"), !name.contains("/") else { return false }
      if let held = held[name] { return held.sizeBytes == sizeBytes && held.crc32c == crc32c }
      return names.contains(name)
    }
  }

  /// At most this many transfers run at once; more get 429 (each holds a checkpoint's hard links
  /// and reads its files).
  public let maxConcurrentTransfers: Int
  private let source: OMCheckpointSource
  private let token: [UInt8]?
  private let leadership: @Sendable () async -> Leadership
  private let activeTransfers = Mutex(0)

  /// - Parameters:
  ///   - token: the value of `ozone.om.checkpoint.token`, or nil when not configured.
  ///   - leadership: asked on every request, after the peer is authorised (a stranger learns
  ///     nothing about the service).
  public init(
    source: OMCheckpointSource, token: String?, maxConcurrentTransfers: Int = 2,
    leadership: @escaping @Sendable () async -> Leadership
  ) {
    precondition(maxConcurrentTransfers > 0)
    self.source = source
    self.token = token.flatMap { $0.isEmpty ? nil : Array($0.utf8) }
    self.maxConcurrentTransfers = maxConcurrentTransfers
    self.leadership = leadership
  }

  /// Registers the endpoint (GET, HEAD, POST) on an O3 HTTP server's routes.
  public func register(into routes: inout O3HTTPRoutes) {
    routes.add(Self.path, methods: [.get, .head, .post]) { request, context in await self.handle(request, context: context) }
  }

  public func handle(_ request: Request, context: O3RequestContext) async -> Response {
    guard isAuthorised(request, peer: context.remoteAddress) else {
      return .o3Text(.forbidden, "only the OMs of this service may fetch a checkpoint (\(Self.tokenHeader), see \(Self.tokenConfigurationKey))")
    }
    if case .notLeader(let leaderAddress) = await leadership() {
      var response = Response.o3Text(
        .serviceUnavailable, "this OM is not the leader" + (leaderAddress.map { "; ask \($0)" } ?? "; no leader is known"))
      if let leaderAddress { response.headers[Self.field(Self.leaderAddressHeader)] = leaderAddress }
      return response
    }
    let excluded: Exclusions
    do {
      excluded = try await Self.exclusions(of: request)
    } catch {
      return .o3Text(.badRequest, "\(error)")
    }
    if request.method == .head {
      // The head of a stream of unknown length, without taking a checkpoint.
      return Response(status: .ok, headers: [.contentType: "application/x-tar"], body: ResponseBody { try await $0.finish(nil) })
    }
    let admitted = activeTransfers.withLock { active in
      guard active < maxConcurrentTransfers else { return false }
      active += 1
      return true
    }
    guard admitted else {
      return .o3Text(.tooManyRequests, "\(maxConcurrentTransfers) checkpoint transfers are already running; retry later")
    }
    do {
      let prepared = try await prepare(excluding: excluded)
      return response(for: Transfer(prepared: prepared) { [self] in activeTransfers.withLock { $0 -= 1 } })
    } catch {
      activeTransfers.withLock { $0 -= 1 }
      return .o3Text(.internalServerError, "\(error)")
    }
  }

  private func isAuthorised(_ request: Request, peer: SocketAddress?) -> Bool {
    guard let token else { return Self.isLoopback(peer) }
    guard let offered = request.headers[Self.field(Self.tokenHeader)] else { return false }
    let offeredBytes = Array(offered.utf8)
    // Compares every byte whatever the first mismatch, so the time taken does not reveal it.
    guard offeredBytes.count == token.count else { return false }
    return zip(offeredBytes, token).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
  }

  private static func field(_ name: String) -> HTTPField.Name { HTTPField.Name(name)! }

  private static func isLoopback(_ address: SocketAddress?) -> Bool {
    guard let ip = address?.ipAddress else { return false }
    return ip.hasPrefix("127.") || ip == "::1" || ip.hasPrefix("::ffff:127.")
  }

  /// The exclusions a request names. Its body is already in memory (and bounded): the server's
  /// body-limit middleware read it.
  static func exclusions(of request: Request) async throws -> Exclusions {
    var exclusions = Exclusions()
    for pair in (request.uri.query ?? "").split(separator: "&") {
      let parts = pair.split(separator: "=", maxSplits: 1)
      if parts.count == 2, parts[0] == "toExcludeSST", let name = String(parts[1]).removingPercentEncoding {
        exclusions.names.insert(name)
      }
    }
    var request = request
    let body = try await request.collectBody(upTo: .max)
    if request.method == .post && body.readableBytes > 0 {
      do {
        let body = try JSONDecoder().decode(ExclusionRequest.self, from: Data(buffer: body))
        exclusions.names.formUnion(body.excludeSST)
        for file in body.heldSST ?? [] { exclusions.held[file.name] = file }
      } catch {
        throw OMCheckpointError(
          .malformedManifest, "the request body must be JSON {\"excludeSST\": [names], \"heldSST\": [files]}: \(error)")
      }
    }
    return exclusions
  }

  /// A checkpoint on disk with its manifest, ready to stream.
  private struct Prepared: Sendable {
    var directory: String
    var manifest: OMCheckpointManifest
  }

  /// Takes the checkpoint and describes it off the cooperative pool: both block on the flush
  /// thread and on disk reads.
  private func prepare(excluding excluded: Exclusions) async throws -> Prepared {
    let source = source
    let directory = Self.temporaryDirectory(beside: source.databasePath)
    return try await withCheckedThrowingContinuation { continuation in
      DispatchQueue.global().async {
        continuation.resume(
          with: Result {
            let termIndex = try source.takeCheckpoint(into: directory)
            do {
              let files = try OMCheckpointFiles.describe(directory: directory).map { file in
                OMCheckpointManifest.File(
                  name: file.name, sizeBytes: file.sizeBytes, crc32c: file.crc32c,
                  sent: !excluded.skips(name: file.name, sizeBytes: file.sizeBytes, crc32c: file.crc32c))
              }
              return Prepared(
                directory: directory, manifest: OMCheckpointManifest(term: termIndex.term, index: termIndex.index, files: files))
            } catch {
              try? FileManager.default.removeItem(atPath: directory)
              throw error
            }
          })
      }
    }
  }

  /// A fresh directory name next to om.db: the same file system, so the checkpoint is hard links.
  /// One left by a crash is removed when the OM next starts (`OMMetadataStore.openRecovering`).
  static func temporaryDirectory(beside databasePath: String) -> String {
    OMDatabaseFiles.checkpointPathPrefix(for: databasePath) + UUID().uuidString
  }

  /// An admitted transfer: its checkpoint directory and its slot, given back exactly once. When
  /// the body is sent (or fails), `finish` removes the directory before the body ends. When the
  /// response is dropped unsent (the peer left before its head was written, or the server
  /// stopped), the body never runs and `deinit` gives them back instead.
  private final class Transfer: Sendable {
    let prepared: Prepared
    private let releaseSlot: Mutex<(@Sendable () -> Void)?>

    init(prepared: Prepared, releaseSlot: @escaping @Sendable () -> Void) {
      self.prepared = prepared
      self.releaseSlot = Mutex(releaseSlot)
    }

    private func take() -> (@Sendable () -> Void)? {
      releaseSlot.withLock { release in
        defer { release = nil }
        return release
      }
    }

    /// Removes the checkpoint off the cooperative pool (NIOFileSystem's threads), then frees the
    /// slot. Detached, so that a transfer cancelled at shutdown still removes its directory.
    func finish() async {
      guard let release = take() else { return }
      let directory = FilePath(prepared.directory)
      await Task.detached { _ = try? await FileSystem.shared.removeItem(at: directory, recursively: true) }.value
      release()
    }

    deinit {
      guard let release = take() else { return }
      let directory = prepared.directory
      DispatchQueue.global().async {
        try? FileManager.default.removeItem(atPath: directory)
        release()
      }
    }
  }

  private func response(for transfer: Transfer) -> Response {
    let manifest = transfer.prepared.manifest
    let body = ResponseBody { writer in
      do {
        try await Self.stream(transfer.prepared, to: &writer)
      } catch {
        await transfer.finish()
        // The status is already sent: Hummingbird closes the connection without the final
        // chunk, which tells the peer the body is incomplete.
        throw error
      }
      await transfer.finish()
      try await writer.finish(nil)
    }
    return Response(
      status: .ok,
      headers: [
        .contentType: "application/x-tar", Self.field(Self.termIndexHeader): "\(manifest.term)#\(manifest.index)",
        Self.field(Self.estimatedBytesHeader): "\(manifest.estimatedTransferBytes)",
      ],
      body: body)
  }

  /// Writes the tar: manifest, sent files, end blocks. Small pieces are gathered into one
  /// buffer; file contents go out as NIOFileSystem reads them, `OMCheckpointFiles.chunkBytes`
  /// at a time, each written before the next is read.
  private static func stream(_ prepared: Prepared, to writer: inout any ResponseBodyWriter) async throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    let manifestBytes = [UInt8](try encoder.encode(prepared.manifest))
    var pending = try OMTarFormat.header(name: OMCheckpointManifest.entryName, sizeBytes: UInt64(manifestBytes.count))
    pending += manifestBytes
    pending += OMTarFormat.padding(forSizeBytes: UInt64(manifestBytes.count))
    for file in prepared.manifest.files where file.sent {
      pending += try OMTarFormat.header(name: file.name, sizeBytes: file.sizeBytes)
      try await writer.write(ByteBuffer(bytes: pending))
      pending = []
      let sentBytes = try await sendContents(of: prepared.directory + "/" + file.name, sizeBytes: file.sizeBytes, to: &writer)
      guard sentBytes == file.sizeBytes else {
        throw OMCheckpointError(.fileChanged, "\(file.name) has \(sentBytes) bytes, the manifest says \(file.sizeBytes)")
      }
      pending = OMTarFormat.padding(forSizeBytes: file.sizeBytes)
    }
    pending += OMTarFormat.endOfArchive
    try await writer.write(ByteBuffer(bytes: pending))
  }

  /// Sends one file's bytes as read; returns how many there were.
  private static func sendContents(
    of path: String, sizeBytes: UInt64, to writer: inout any ResponseBodyWriter
  ) async throws -> UInt64 {
    do {
      return try await FileSystem.shared.withFileHandle(forReadingAt: FilePath(path)) { handle in
        var sentBytes: UInt64 = 0
        for try await chunk in handle.readChunks(chunkLength: .bytes(Int64(OMCheckpointFiles.chunkBytes))) {
          try Task.checkCancellation()
          sentBytes += UInt64(chunk.readableBytes)
          guard sentBytes <= sizeBytes else {
            throw OMCheckpointError(.fileChanged, "\(path) grew past \(sizeBytes) bytes while it was sent")
          }
          try await writer.write(chunk)
        }
        return sentBytes
      }
    } catch let error as FileSystemError {
      throw OMCheckpointError(.fileChanged, "cannot read \(path): \(error)")
    }
  }
}
