/// What went wrong with SCM's database or storage, in words for the operator.
public struct SCMMetadataError: Error, CustomStringConvertible, Sendable {
  public enum Code: Sendable {
    case notInitialized
    case alreadyInitialized
    case unsupportedLayout
    case corruptValue
  }

  public let code: Code
  public let message: String

  public init(_ code: Code, _ message: String) {
    self.code = code
    self.message = message
  }

  public var description: String { message }
}
