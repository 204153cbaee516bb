import Synchronization

/// Text appended from one thread and read from another (a child's output as it arrives).
public final class LockedText: Sendable {
  private let buffer = Mutex("")

  public init() {}

  public func append(_ more: String) { buffer.withLock { $0 += more } }

  public var text: String { buffer.withLock { $0 } }
}
