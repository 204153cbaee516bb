import Foundation
@testable import OMMetadata
import O3Service
import OMProto
import OzoneManager
import O3TestSupport
import Testing


/// An OM database with flushed data, the checkpoint service over it, and an HTTP server.
final class CheckpointFixture {
  let directory: TemporaryDirectory
  let store: OMMetadataStore
  let doubleBuffer: OMDoubleBuffer
  let fatalErrors = FatalErrorRecorder()
  private(set) var server: O3HTTPServer?

  /// Applies `volumes` transactions at term 3, each a volume with ~16 KB of incompressible
  /// metadata, so that the volume table's SST spans several send chunks.
  init(volumes: Int = 100, _ label: String = #function) throws {
    directory = TemporaryDirectory(label)
    let path = directory.path + "/om.db"
    try OMMetadataStore.initialize(path: path)
    store = try OMMetadataStore.open(path: path)
    doubleBuffer = OMDoubleBuffer(
      store: store, maxUnflushedTransactions: 10_000, syncWrites: false, flushedUpTo: try store.transactionInfo(),
      onFatalError: fatalErrors.handler)
    doubleBuffer.start()
    addVolumes(1...volumes)
  }

  /// Applies one transaction per number at term 3 and index `number`.
  func addVolumes(_ numbers: ClosedRange<Int>) {
    var random = UInt64(numbers.lowerBound)
    for number in numbers {
      var volume = VolumeInfo()
      volume.volume = "vol\(number)"
      let blob = (0..<16_384).map { _ -> Character in
        random = random &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Character(UnicodeScalar(UInt8(97 + (random >> 33) % 26)))
      }
      volume.metadata = [KeyValue("blob", String(blob))]
      var part = OMBatchPart()
      part.volumes = [TableChange(key: OMKeys.volume(volume.volume), value: volume)]
      store.applyToCache(part, epoch: UInt64(number))
      doubleBuffer.add(part, termIndex: TermIndex(term: 3, index: UInt64(number)))
    }
  }

  deinit {
    doubleBuffer.stop()
    store.close()
  }

  var source: OMCheckpointSource {
    let store = store
    return OMCheckpointSource(store: store, doubleBuffer: doubleBuffer) { try store.database.createCheckpoint(at: $0) }
  }

  /// Starts the HTTP server with the checkpoint route; returns its port.
  func start(
    token: String? = nil, leadership: OMCheckpointService.Leadership = .leader, maxConcurrentTransfers: Int = 2
  ) async throws -> Int {
    let service = OMCheckpointService(source: source, token: token, maxConcurrentTransfers: maxConcurrentTransfers) {
      leadership
    }
    var routes = O3HTTPRoutes()
    service.register(into: &routes)
    let server = try await O3HTTPServer.start(host: "127.0.0.1", port: 0, routes: routes)
    self.server = server
    return server.localPort
  }

  func stop() async {
    await server?.shutdown()
  }

  /// Entries of the om.db's parent directory that are leftover checkpoints.
  var temporaryCheckpoints: [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).filter { $0.contains(".checkpoint-") }
  }
}

/// One answer from the server, body whole (test checkpoints are a few MB).
struct FetchedReply {
  var status: Int
  var headers: [String: String]
  var body: [UInt8]
}

enum CheckpointHTTP {
  static func fetch(
    port: Int, path: String = OMCheckpointService.path, query: String = "", method: String = "GET",
    headers: [String: String] = [:], body: Data? = nil
  ) async throws -> FetchedReply {
    let reply = try await HTTPTestClient.request(
      port: port, path: path + query, method: method, headers: headers, body: body.map { [UInt8]($0) })
    return FetchedReply(status: reply.status, headers: reply.headers, body: reply.body)
  }
}

/// A checkpoint stream read back: the manifest and the contents of every entry after it.
struct ParsedCheckpoint {
  var manifest: OMCheckpointManifest
  var files: [(name: String, bytes: [UInt8])]

  /// Parses `bytes` fed in pieces of `pieceBytes`, to cross every block boundary.
  init(_ bytes: [UInt8], pieceBytes: Int = 7_919) throws {
    var reader = OMTarReader()
    var entries: [(name: String, bytes: [UInt8])] = []
    var start = 0
    while start < bytes.count {
      let end = min(start + pieceBytes, bytes.count)
      for event in try reader.consume(Array(bytes[start..<end])) {
        switch event {
        case .entryStart(let name, _): entries.append((name, []))
        case .data(let chunk): entries[entries.count - 1].bytes += chunk
        case .entryEnd, .archiveEnd: break
        }
      }
      start = end
    }
    guard reader.isFinished, let first = entries.first, first.name == OMCheckpointManifest.entryName else {
      throw OMCheckpointError(.malformedManifest, "the stream does not start with the manifest or does not end")
    }
    manifest = try JSONDecoder().decode(OMCheckpointManifest.self, from: Data(first.bytes))
    files = Array(entries.dropFirst())
  }
}
