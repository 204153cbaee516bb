/// A failure of the metadata store itself (not a business error such as KEY_NOT_FOUND).
///
/// Any of these inside apply or flush is fail-stop: the replica stops rather than diverge.
public struct OMMetadataError: Error, CustomStringConvertible, Sendable {
  public enum Code: Sendable {
    case corruptValue
    case storage
    case notInitialized
    case alreadyInitialized
    case unsupportedLayout
  }

  public let code: Code
  public let message: String

  public init(_ code: Code, _ message: String) {
    self.code = code
    self.message = message
  }

  public var description: String { message }
}
