#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// An open file of the log directory: thin wrappers over the POSIX calls the log needs, each
/// turning a failure into a ``RaftLogError`` that names the file.
///
/// A value holding a descriptor; whoever created it closes it exactly once. The log never hands
/// one to a reader after closing it (see ``DurableRaftLog``'s locking).
struct LogFile: Sendable {
  let descriptor: Int32
  /// The path the file had when it was opened or last renamed, for messages and renames.
  var path: String

  /// Opens `path` for reading and writing, creating it (empty) when `create` is set.
  static func open(_ path: String, create: Bool = false) throws(RaftLogError) -> LogFile {
    let flags = create ? O_RDWR | O_CREAT | O_TRUNC : O_RDWR
    let descriptor = retryingInterrupts { posixOpen(path, flags | O_CLOEXEC, 0o644) }
    guard descriptor >= 0 else { throw failure("open", path) }
    return LogFile(descriptor: descriptor, path: path)
  }

  func close() {
    _ = posixClose(descriptor)
  }

  /// The current size of the file in bytes.
  func size() throws(RaftLogError) -> Int {
    let end = lseek(descriptor, 0, SEEK_END)
    guard end >= 0 else { throw Self.failure("lseek", path) }
    return Int(end)
  }

  /// Exactly `count` bytes starting at `offset`; a shorter file is an error.
  func read(at offset: Int, count: Int) throws(RaftLogError) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: count)
    var done = 0
    var failedCall: String?
    bytes.withUnsafeMutableBytes { buffer in
      while done < count {
        let result = Self.retryingInterrupts {
          pread(descriptor, buffer.baseAddress! + done, count - done, off_t(offset + done))
        }
        if result < 0 { failedCall = "pread"; return }
        if result == 0 { return }
        done += result
      }
    }
    if let failedCall { throw Self.failure(failedCall, path) }
    guard done == count else {
      throw RaftLogError(
        .ioFailure, "file ended after \(offset + done) bytes, \(count) expected from \(offset)",
        file: path, offset: offset)
    }
    return bytes
  }

  /// The whole file.
  func readAll() throws(RaftLogError) -> [UInt8] {
    try read(at: 0, count: try size())
  }

  /// Writes all of `bytes` at `offset`. On failure part of them may be in the file: the caller
  /// cuts the file back. `faults` (tests) may make the write fail part way.
  func write(_ bytes: [UInt8], at offset: Int, faults: LogWriteFaults? = nil) throws(RaftLogError) {
    let injected = faults?.nextWrite(byteCount: bytes.count)
    let count = injected?.bytes ?? bytes.count
    var done = 0
    var failedErrorNumber: Int32?
    bytes.withUnsafeBytes { buffer in
      while done < count {
        let result = Self.retryingInterrupts {
          pwrite(descriptor, buffer.baseAddress! + done, count - done, off_t(offset + done))
        }
        // A write of nothing sets no errno: call it an I/O error rather than report a stale one.
        if result <= 0 { failedErrorNumber = result < 0 ? errno : EIO; return }
        done += result
      }
    }
    if let injected { throw Self.failure("pwrite", path, errorNumber: injected.errorNumber) }
    if let failedErrorNumber { throw Self.failure("pwrite", path, errorNumber: failedErrorNumber) }
  }

  /// Forces the file's data and size to the disk.
  func sync() throws(RaftLogError) {
    guard Self.retryingInterrupts({ fsync(descriptor) }) == 0 else {
      throw Self.failure("fsync", path, retryable: false)
    }
  }

  /// Shortens the file to `size` bytes.
  func truncate(to size: Int) throws(RaftLogError) {
    guard Self.retryingInterrupts({ ftruncate(descriptor, off_t(size)) }) == 0 else {
      throw Self.failure("ftruncate", path)
    }
  }

  /// Renames the file; the rename is durable only after the directory is synced.
  mutating func rename(to newPath: String) throws(RaftLogError) {
    try Self.rename(path, to: newPath)
    path = newPath
  }

  static func rename(_ path: String, to newPath: String) throws(RaftLogError) {
    guard posixRename(path, newPath) == 0 else { throw failure("rename to \(newPath)", path) }
  }

  /// Deletes `path`; the deletion is durable only after the directory is synced.
  static func remove(_ path: String) throws(RaftLogError) {
    guard unlink(path) == 0 else { throw failure("unlink", path) }
  }

  /// Makes the creations, renames and deletions in `directory` durable.
  static func syncDirectory(_ directory: String) throws(RaftLogError) {
    let descriptor = retryingInterrupts { posixOpen(directory, O_RDONLY | O_CLOEXEC, 0) }
    guard descriptor >= 0 else { throw failure("open directory", directory) }
    defer { _ = posixClose(descriptor) }
    guard retryingInterrupts({ fsync(descriptor) }) == 0 else {
      throw failure("fsync directory", directory, retryable: false)
    }
  }

  /// Writes `bytes` to `path` so that a crash leaves either the old or the new content: a temp
  /// file, fsync, rename over `path`, then (if `durably`) a directory fsync, without which a
  /// crash may still bring back the old content. When the temp file cannot be written (a full
  /// disk) or renamed, it is removed and `path` keeps its old content.
  static func replaceAtomically(
    _ path: String, with bytes: [UInt8], directory: String, durably: Bool = true, faults: LogWriteFaults? = nil
  ) throws(RaftLogError) {
    let temporary = path + temporarySuffix
    let file = try open(temporary, create: true)
    do throws(RaftLogError) {
      defer { file.close() }
      try file.write(bytes, at: 0, faults: faults)
      try file.sync()
      try rename(temporary, to: path)
    } catch {
      // Best effort: a temp file left over is removed by the next open (LogRecovery).
      _ = unlink(temporary)
      throw error
    }
    if durably { try syncDirectory(directory) }
  }

  /// The suffix of files being replaced; one left over is the debris of a crash.
  static let temporarySuffix = ".tmp"

  private static func retryingInterrupts<Result: BinaryInteger>(_ call: () -> Result) -> Result {
    while true {
      let result = call()
      if result >= 0 || errno != EINTR { return result }
    }
  }

  /// The error of a failed call, `errno` unless told. A full disk (ENOSPC, EDQUOT) is
  /// ``RaftLogError/Code/noSpace`` unless `retryable` is false (a failed fsync: see that code).
  private static func failure(
    _ call: String, _ path: String, errorNumber: Int32 = errno, retryable: Bool = true
  ) -> RaftLogError {
    let reason = String(cString: strerror(errorNumber))
    let isFull = errorNumber == ENOSPC || errorNumber == EDQUOT
    return RaftLogError(retryable && isFull ? .noSpace : .ioFailure, "\(call) failed: \(reason)", file: path)
  }
}

// The POSIX names clash with methods of LogFile and DurableRaftLog inside those types.
func posixOpen(_ path: String, _ flags: Int32, _ mode: mode_t) -> Int32 {
  open(path, flags, mode)
}
func posixClose(_ descriptor: Int32) -> Int32 { close(descriptor) }
func posixRename(_ from: String, _ to: String) -> Int32 { rename(from, to) }
