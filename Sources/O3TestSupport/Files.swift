import Foundation
import O3Threads

/// Writes `text` to `path` atomically (a new file, fsync'd, then renamed over the old one), on a
/// thread of its own: Foundation's atomic write fsyncs, and an fsync on Swift's cooperative pool
/// holds one of its two threads for as long as the disk takes. A loaded run showed it, with a
/// test's configuration file being written from the pool while another pool thread was busy.
public func writeTextFile(_ text: String, to path: String) async throws {
  try await onOwnThread("test-write") { try text.write(toFile: path, atomically: true, encoding: .utf8) }
}
