import Foundation
import Raft

/// Reads checkpoint files in bounded chunks: their sizes and checksums, and their contents.
public enum OMCheckpointFiles {
  /// Bytes read from a file at a time; also the size of the chunks sent on the wire.
  public static let chunkBytes = 1 << 20

  /// The CRC-32C of `bytes`, as the manifest records it.
  public static func checksum(_ bytes: [UInt8]) -> UInt32 {
    CRC32C.checksum(bytes)
  }

  /// Every regular file directly in `directory`, sorted by name, with size and CRC-32C.
  public static func describe(directory: String) throws -> [(name: String, sizeBytes: UInt64, crc32c: UInt32)] {
    let names = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
    return try names.map { name in
      let path = directory + "/" + name
      var sizeBytes: UInt64 = 0
      var crc: UInt32 = 0
      try forEachChunk(of: path) { chunk in
        sizeBytes += UInt64(chunk.count)
        crc = chunk.withUnsafeBytes { CRC32C.update(crc, $0) }
      }
      return (name, sizeBytes, crc)
    }
  }

  /// Calls `body` with each chunk of the file, in order; at most `chunkBytes` are held.
  public static func forEachChunk(of path: String, _ body: ([UInt8]) throws -> Void) throws {
    guard let handle = FileHandle(forReadingAtPath: path) else {
      throw OMCheckpointError(.fileChanged, "cannot open \(path) for reading")
    }
    defer { try? handle.close() }
    while let data = try handle.read(upToCount: chunkBytes), !data.isEmpty {
      try body([UInt8](data))
    }
  }
}
