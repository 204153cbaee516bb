import NIOCore
import Synchronization

/// What every client of a run shares: when to stop, the next operation number, who is done.
final class RunControl: Sendable {
  private let total: Int?
  private let deadline: NIODeadline?
  private let clients: Int
  private let keySpaceSize: Int
  private let issued = Atomic<Int>(0)
  private let running: Atomic<Int>
  private let lastFinishNanoseconds = Atomic<UInt64>(0)
  private let announced = Atomic<Bool>(false)
  /// Succeeded once every client has stopped.
  let allFinished: EventLoopPromise<Void>

  init(options: LoadOptions, start: NIODeadline, allFinished: EventLoopPromise<Void>) {
    total = options.total
    deadline = options.duration.map { start + .nanoseconds(Self.nanoseconds($0)) }
    clients = options.clients
    keySpaceSize = options.keySpaceSize
    running = Atomic(options.clients)
    self.allFinished = allFinished
  }

  /// The key index of a client's next call, or nil when the run is over: a run of --total hands
  /// out numbers from one counter; a timed run interleaves the clients' own counts.
  func nextIndex(client: Int, issuedByClient: Int) -> Int? {
    if let total {
      let number = issued.add(1, ordering: .relaxed).oldValue
      return number < total ? number % keySpaceSize : nil
    }
    if let deadline, NIODeadline.now() >= deadline { return nil }
    return (issuedByClient * clients + client) % keySpaceSize
  }

  func clientFinished() {
    let now = NIODeadline.now().uptimeNanoseconds
    var seen = lastFinishNanoseconds.load(ordering: .relaxed)
    while seen < now {
      let (exchanged, original) = lastFinishNanoseconds.compareExchange(
        expected: seen, desired: now, ordering: .relaxed)
      if exchanged { break }
      seen = original
    }
    if running.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 { announceFinished() }
  }

  /// Succeeds `allFinished` once, whether the clients finished or the run's time ran out.
  func announceFinished() {
    if !announced.exchange(true, ordering: .acquiringAndReleasing) { allFinished.succeed() }
  }

  var clientsRunning: Int { running.load(ordering: .acquiring) }
  var lastFinish: NIODeadline { .uptimeNanoseconds(lastFinishNanoseconds.load(ordering: .acquiring)) }

  static func nanoseconds(_ duration: Duration) -> Int64 {
    let (seconds, attoseconds) = duration.components
    return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
  }
}
