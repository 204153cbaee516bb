import Foundation
import Synchronization

/// SIGINT and SIGTERM, caught (instead of ending the process) so that servers stop cleanly.
public final class TerminationSignal: @unchecked Sendable {
  // @unchecked: `sources` is written only in `install`, before any handler can run, and is
  // only kept alive; everything else is behind `state`.
  private var sources: [any DispatchSourceSignal] = []
  private let state = Mutex<(received: String?, waiters: [CheckedContinuation<String, Never>])>((nil, []))

  private init() {}

  /// Starts catching SIGINT and SIGTERM for the rest of the process's life.
  public static func install() -> TerminationSignal {
    let catcher = TerminationSignal()
    let queue = DispatchQueue(label: "o3-signals")
    for (number, name) in [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM")] {
      signal(number, SIG_IGN)
      let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
      source.setEventHandler { catcher.deliver(name) }
      source.resume()
      catcher.sources.append(source)
    }
    return catcher
  }

  /// The first signal received so far, if any.
  public var received: String? { state.withLock { $0.received } }

  /// Returns the name of the first termination signal (at once if one already arrived).
  public func wait() async -> String {
    await withCheckedContinuation { continuation in
      let already: String? = state.withLock { state in
        if let received = state.received { return received }
        state.waiters.append(continuation)
        return nil
      }
      if let already { continuation.resume(returning: already) }
    }
  }

  private func deliver(_ name: String) {
    let waiters: [CheckedContinuation<String, Never>] = state.withLock { state in
      guard state.received == nil else { return [] }
      state.received = name
      defer { state.waiters = [] }
      return state.waiters
    }
    for waiter in waiters { waiter.resume(returning: name) }
  }
}
