import CRocksDB

/// An error from RocksDB or from misuse of this wrapper: a code to switch on, a message to act on.
public struct RocksDBError: Error, CustomStringConvertible, Sendable {
  /// What went wrong, for programs.
  ///
  /// The code names the operation that failed (`open`, `read`, `write`, `iterate`, `checkpoint`),
  /// except that RocksDB statuses that call for a different reaction win: "Corruption:" becomes
  /// `corruption` everywhere, and "IO error:" becomes `ioError` everywhere but in `open`. An open
  /// that fails for any reason but corruption stays `open`, because the caller's remedy is the same
  /// (fix the path, the permissions, or the process holding the lock); the message keeps RocksDB's
  /// "IO error:" text for the person reading it. `closed` and `invalidArgument` are this wrapper's
  /// own refusals (a closed database, an unknown family, a family of another database).
  public enum Code: Sendable {
    case open, read, write, iterate, checkpoint, invalidArgument, closed, corruption, ioError, other
  }

  public let code: Code
  /// RocksDB's own message (when it produced one), prefixed with what we were doing.
  public let message: String

  public var description: String { "RocksDBError.\(code): \(message)" }

  init(_ code: Code, _ message: String) {
    self.code = code
    self.message = message
  }

  /// Wraps a message returned by RocksDB through an `errptr`.
  init(operation: Code, doing action: String, rocksDBMessage: String) {
    self.code = Self.classify(operation: operation, rocksDBMessage: rocksDBMessage)
    self.message = "\(action): \(rocksDBMessage)"
  }

  static func classify(operation: Code, rocksDBMessage: String) -> Code {
    if rocksDBMessage.hasPrefix("Corruption:") { return .corruption }
    if rocksDBMessage.hasPrefix("IO error:") && operation != .open { return .ioError }
    return operation
  }
}

/// Calls `body` with a fresh `errptr` and turns an error RocksDB stored there into a
/// `RocksDBError`.
///
/// `action` is evaluated only on failure, so callers may describe the operation with interpolated
/// strings without paying for them on the success path.
func withRocksDBError<Result>(
  _ operation: RocksDBError.Code,
  _ action: @autoclosure () -> String,
  _ body: (UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) throws -> Result
) throws -> Result {
  var error: UnsafeMutablePointer<CChar>? = nil
  let result = try body(&error)
  if let error {
    let rocksDBMessage = String(cString: error)
    rocksdb_free(error)
    throw RocksDBError(operation: operation, doing: action(), rocksDBMessage: rocksDBMessage)
  }
  return result
}
