import Foundation
import OMMetadata
import Raft

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Turns a checkpoint tar stream into a verified candidate directory.
///
/// The manifest must be the first entry; every later entry must be a file it marks as sent, is
/// written as it arrives, and is checked against the manifest's size and CRC-32C when it ends.
/// `finish` then hard-links the files the leader did not send from the kept database and checks
/// them the same way, so a same-named SST from another database is caught.
///
/// Local write errors become `insufficientSpace` when the file system is full (ENOSPC, EDQUOT)
/// and `localWriteFailed` otherwise; the caller removes the directory either way.
struct CheckpointCandidateWriter {
  /// Bound on the manifest entry (it is held in memory; a million files fit in well under this).
  static let maxManifestBytes: UInt64 = 64 << 20

  /// Called with each received piece of a file before it is checksummed and written; a test
  /// corrupts a byte as a bad link would, or throws ENOSPC as a full disk would.
  typealias FileChunkHook = @Sendable (_ fileName: String, _ chunk: inout [UInt8]) throws -> Void

  let directory: String
  let keptDatabase: String?
  let expectedTermIndex: TermIndex
  private let fileChunkHook: FileChunkHook?
  private var reader = OMTarReader()
  private(set) var manifest: OMCheckpointManifest?
  /// Bytes of file contents written so far (tar framing and the manifest not counted), to
  /// compare with the manifest's `estimatedTransferBytes`.
  private(set) var writtenBytes: UInt64 = 0
  private var manifestBytes: [UInt8]?
  private var received: Set<String> = []
  private var current: (file: OMCheckpointManifest.File, handle: FileHandle, bytes: UInt64, crc: UInt32)?

  init(directory: String, keptDatabase: String?, expectedTermIndex: TermIndex, fileChunkHook: FileChunkHook? = nil) {
    self.directory = directory
    self.keptDatabase = keptDatabase
    self.expectedTermIndex = expectedTermIndex
    self.fileChunkHook = fileChunkHook
  }

  mutating func consume(_ bytes: [UInt8]) throws {
    for event in try reader.consume(bytes) {
      switch event {
      case .entryStart(let name, let sizeBytes): try start(name: name, sizeBytes: sizeBytes)
      case .data(let chunk): try write(chunk)
      case .entryEnd: try endEntry()
      case .archiveEnd: break
      }
    }
  }

  private mutating func start(name: String, sizeBytes: UInt64) throws {
    guard let manifest else {
      guard name == OMCheckpointManifest.entryName, sizeBytes <= Self.maxManifestBytes else {
        throw OMCheckpointError(.malformedManifest, "the first entry is '\(name)' (\(sizeBytes) bytes), not the manifest")
      }
      manifestBytes = []
      return
    }
    guard let file = manifest.files.first(where: { $0.name == name }), file.sent, !received.contains(name) else {
      throw OMCheckpointError(.unexpectedResponse, "the stream holds '\(name)', which the manifest does not list as sent (or twice)")
    }
    guard file.sizeBytes == sizeBytes else {
      throw OMCheckpointError(.verificationFailed, "\(name) is \(sizeBytes) bytes in the stream, \(file.sizeBytes) in the manifest")
    }
    let path = directory + "/" + name
    let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard descriptor >= 0 else {
      throw CheckpointLocalWriteError.classify(POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO), doing: "create \(path)")
    }
    current = (file, FileHandle(fileDescriptor: descriptor, closeOnDealloc: true), 0, 0)
  }

  private mutating func write(_ received: [UInt8]) throws {
    if manifestBytes != nil {
      manifestBytes! += received
      return
    }
    guard var entry = current else {
      throw OMCheckpointError(.unexpectedResponse, "data arrived outside an entry")
    }
    var chunk = received
    do {
      try fileChunkHook?(entry.file.name, &chunk)
      try entry.handle.write(contentsOf: chunk)
    } catch {
      throw CheckpointLocalWriteError.classify(error, doing: "write \(directory)/\(entry.file.name)")
    }
    entry.bytes += UInt64(chunk.count)
    entry.crc = chunk.withUnsafeBytes { CRC32C.update(entry.crc, $0) }
    writtenBytes += UInt64(chunk.count)
    current = entry
  }

  private mutating func endEntry() throws {
    if let bytes = manifestBytes {
      manifestBytes = nil
      try acceptManifest(bytes)
      return
    }
    guard let entry = current else {
      throw OMCheckpointError(.unexpectedResponse, "an entry ended that never started")
    }
    current = nil
    do {
      try entry.handle.synchronize()
      try entry.handle.close()
    } catch {
      throw CheckpointLocalWriteError.classify(error, doing: "sync \(directory)/\(entry.file.name)")
    }
    try Self.verify(entry.file, sizeBytes: entry.bytes, crc32c: entry.crc)
    received.insert(entry.file.name)
  }

  private mutating func acceptManifest(_ bytes: [UInt8]) throws {
    let decoded: OMCheckpointManifest
    do {
      decoded = try JSONDecoder().decode(OMCheckpointManifest.self, from: Data(bytes))
    } catch {
      throw OMCheckpointError(.malformedManifest, "the manifest is not valid JSON: \(error)")
    }
    guard decoded.formatVersion == OMCheckpointManifest.currentFormatVersion else {
      throw OMCheckpointError(.malformedManifest, "manifest format \(decoded.formatVersion); this O3 reads \(OMCheckpointManifest.currentFormatVersion)")
    }
    guard TermIndex(term: decoded.term, index: decoded.index) == expectedTermIndex else {
      throw OMCheckpointError(
        .verificationFailed, "the manifest says \(decoded.term)#\(decoded.index), the response header \(expectedTermIndex)")
    }
    for file in decoded.files where !Self.isPlainName(file.name) {
      throw OMCheckpointError(.malformedManifest, "the manifest names '\(file.name)', which is not a plain file name")
    }
    manifest = decoded
  }

  /// Checks the stream ended, hard-links the files not sent, and checks them; returns the manifest.
  mutating func finish() throws -> OMCheckpointManifest {
    guard reader.isFinished, current == nil, let manifest else {
      throw OMCheckpointError(.unexpectedResponse, "the checkpoint stream ended early")
    }
    for file in manifest.files {
      if file.sent {
        guard received.contains(file.name) else {
          throw OMCheckpointError(.unexpectedResponse, "\(file.name) is listed as sent but was not in the stream")
        }
        continue
      }
      guard let keptDatabase else {
        throw OMCheckpointError(.keptFileUnusable, "\(file.name) was not sent and there is no local database to take it from")
      }
      let target = directory + "/" + file.name
      do {
        try FileManager.default.linkItem(atPath: keptDatabase + "/" + file.name, toPath: target)
      } catch {
        throw OMCheckpointError(.keptFileUnusable, "\(file.name) was not sent and cannot be linked from \(keptDatabase): \(error)")
      }
      var sizeBytes: UInt64 = 0
      var crc: UInt32 = 0
      try OMCheckpointFiles.forEachChunk(of: target) { chunk in
        sizeBytes += UInt64(chunk.count)
        crc = chunk.withUnsafeBytes { CRC32C.update(crc, $0) }
      }
      do {
        try Self.verify(file, sizeBytes: sizeBytes, crc32c: crc)
      } catch let error as OMCheckpointError {
        throw OMCheckpointError(.keptFileUnusable, "the kept copy of \(error.message)")
      }
    }
    do {
      try OMDatabaseFiles.syncDirectory(directory)
    } catch {
      throw CheckpointLocalWriteError.classify(error, doing: "sync \(directory)")
    }
    return manifest
  }

  /// Bytes of the files the leader left out, which `finish` links instead of receiving.
  var linkedBytes: UInt64 {
    manifest?.files.filter { !$0.sent }.reduce(0) { $0 + $1.sizeBytes } ?? 0
  }

  private static func verify(_ file: OMCheckpointManifest.File, sizeBytes: UInt64, crc32c: UInt32) throws {
    guard sizeBytes == file.sizeBytes, crc32c == file.crc32c else {
      throw OMCheckpointError(
        .verificationFailed,
        "\(file.name) has \(sizeBytes) bytes with CRC-32C \(crc32c); the manifest says \(file.sizeBytes) bytes, \(file.crc32c)")
    }
  }

  static func isPlainName(_ name: String) -> Bool {
    !name.isEmpty && name != "." && name != ".." && !name.contains("/") && !name.contains("\u{0}")
      && name != OMCheckpointManifest.entryName
  }
}
