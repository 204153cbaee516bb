import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Turns an error from writing the candidate directory into an `OMCheckpointError`, telling a
/// full file system (which the operator fixes by freeing space) from any other write failure.
enum CheckpointLocalWriteError {
  static func classify(_ error: Error, doing action: String) -> OMCheckpointError {
    if let checkpointError = error as? OMCheckpointError { return checkpointError }
    if isOutOfSpace(error) {
      return OMCheckpointError(.insufficientSpace, "the disk filled up: cannot \(action): \(error)")
    }
    return OMCheckpointError(.localWriteFailed, "cannot \(action): \(error)")
  }

  /// ENOSPC or EDQUOT, however Foundation wrapped it (a POSIX error, Cocoa's out-of-space
  /// code, or an NSError carrying the errno as its own code or as its underlying error).
  static func isOutOfSpace(_ error: Error) -> Bool {
    if let posix = error as? POSIXError { return posix.code == .ENOSPC || posix.code == .EDQUOT }
    if let cocoa = error as? CocoaError, cocoa.code == .fileWriteOutOfSpace { return true }
    let bridged = error as NSError
    if bridged.domain == NSPOSIXErrorDomain && (bridged.code == Int(ENOSPC) || bridged.code == Int(EDQUOT)) { return true }
    if let underlying = bridged.userInfo[NSUnderlyingErrorKey] as? Error { return isOutOfSpace(underlying) }
    return false
  }
}
