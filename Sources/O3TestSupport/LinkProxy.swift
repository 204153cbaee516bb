import NIOCore
import NIOPosix
import RaftSimulation
import Synchronization

/// What a ``LinkProxy`` does with the bytes and connections of its link.
public enum LinkMode: Sendable, Equatable, CustomStringConvertible {
  /// Bytes pass at once.
  case open
  /// Every chunk is held `minimumMilliseconds` plus a uniform draw up to `jitterMilliseconds`,
  /// never overtaking an earlier chunk of the same direction (TCP keeps order).
  case delayed(minimumMilliseconds: Int, jitterMilliseconds: Int)
  /// Each chunk kills its connection with probability `perMille`/1000: the bytes in flight
  /// are lost, as when a network drops packets long enough for TCP to give up. A TCP stream
  /// cannot lose bytes in its middle, so loss is modelled as connections dying.
  case lossy(perMille: Int)
  /// Nothing passes and nothing is closed: connections stay open and silent, new ones are
  /// accepted and never reach the target (a partition where packets vanish). Connections that
  /// lost bytes are closed when the mode changes, since their streams have a hole.
  case blackhole
  /// Every connection is closed and new ones are closed at once (a reset or a refused port).
  case refusing

  public var description: String {
    switch self {
    case .open: "open"
    case .delayed(let minimum, let jitter): "delayed \(minimum)+\(jitter)ms"
    case .lossy(let perMille): "lossy \(perMille)‰"
    case .blackhole: "blackhole"
    case .refusing: "refusing"
    }
  }
}

/// A userspace TCP proxy for one directed link (a client or peer → one target port) on
/// 127.0.0.1, whose ``LinkMode`` a fault test changes at any time: partitions, delay, loss and
/// cuts without iptables.
///
/// One proxy carries one direction of a protocol whose answers come back on connections the
/// other side opens (Raft over RaftRPC: a peer's messages travel on its own outbound
/// connection, replies are messages on the other peer's), so blocking the proxy i→j blocks
/// exactly what i says to j. Bytes travelling back on a proxied connection (RPC
/// acknowledgements) share the fate of their connection.
public final class LinkProxy: Sendable {
  /// A connection is paused once this many bytes wait for their delay in one direction.
  public static let delayedBytesMax = 4 << 20

  /// What the proxy has done so far.
  public struct Counters: Sendable, Equatable {
    public var connectionsAccepted = 0
    public var connectionsKilled = 0
    public var bytesForwarded = 0
    public var bytesDiscarded = 0
  }

  public let name: String
  public let targetPort: Int
  private let group: any EventLoopGroup
  private let state: Mutex<State>

  private struct State {
    var mode = LinkMode.open
    var random: SimulationRandom
    var connections: [ObjectIdentifier: ProxiedConnection] = [:]
    var listener: (any Channel)?
    var counters = Counters()
    var stopped = false
  }

  /// - Parameters:
  ///   - name: how reports name the link (for example `om1→om2 raft`).
  ///   - seed: drives the delay jitter and the loss draws.
  public init(name: String, targetPort: Int, seed: UInt64, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
    self.name = name
    self.targetPort = targetPort
    self.group = group
    state = Mutex(State(random: SimulationRandom(seed: seed)))
  }

  /// Starts listening on a free port of 127.0.0.1 and returns it.
  public func start() async throws -> Int {
    let channel = try await ServerBootstrap(group: group)
      .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
      .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
      .childChannelInitializer { [self] inbound in accept(inbound) }
      .bind(host: "127.0.0.1", port: 0).get()
    state.withLock { $0.listener = channel }
    return channel.localAddress!.port!
  }

  /// The port the proxy listens on; 0 before `start`.
  public var port: Int { state.withLock { $0.listener?.localAddress?.port } ?? 0 }

  public var mode: LinkMode { state.withLock { $0.mode } }

  public var counters: Counters { state.withLock { $0.counters } }

  /// Switches the mode. Entering `refusing` closes every connection; leaving `blackhole`
  /// closes the connections that lost bytes meanwhile.
  public func setMode(_ mode: LinkMode) {
    let doomed: [ProxiedConnection] = state.withLock { state in
      let previous = state.mode
      state.mode = mode
      if mode == .refusing { return Array(state.connections.values) }
      if previous == .blackhole && mode != .blackhole {
        return state.connections.values.filter { $0.lostBytes.load(ordering: .relaxed) }
      }
      return []
    }
    close(doomed)
  }

  /// Closes every connection through the proxy now (both sides); the mode stays as it is.
  public func cutConnections() {
    close(state.withLock { Array($0.connections.values) })
  }

  /// Stops listening and closes every connection.
  public func stop() async {
    let (listener, connections) = state.withLock { state in
      state.stopped = true
      state.mode = .refusing
      return (state.listener, Array(state.connections.values))
    }
    close(connections)
    try? await listener?.close()
  }

  private func close(_ connections: [ProxiedConnection]) {
    guard !connections.isEmpty else { return }
    state.withLock { $0.counters.connectionsKilled += connections.count }
    for connection in connections { connection.close() }
  }

  /// Runs on the accepted channel's event loop before it reads anything.
  private func accept(_ inbound: any Channel) -> EventLoopFuture<Void> {
    let mode = state.withLock { state in
      state.counters.connectionsAccepted += 1
      return state.stopped ? LinkMode.refusing : state.mode
    }
    switch mode {
    case .refusing:
      return inbound.close()
    case .blackhole:
      let connection = ProxiedConnection(inbound: inbound, outbound: nil)
      connection.lostBytes.store(true, ordering: .relaxed)
      register(connection)
      return inbound.eventLoop.makeCompletedFuture {
        try inbound.pipeline.syncOperations.addHandler(DiscardingHandler(link: self))
      }
    default:
      return connectOutbound(for: inbound)
    }
  }

  private func connectOutbound(for inbound: any Channel) -> EventLoopFuture<Void> {
    let loop = inbound.eventLoop
    let backward = NIOLoopBound(ForwardingHandler(link: self, partner: inbound), eventLoop: loop)
    return ClientBootstrap(group: loop)
      .channelOption(.socketOption(.tcp_nodelay), value: 1)
      .connectTimeout(.seconds(5))
      .channelInitializer { outbound in
        outbound.eventLoop.makeCompletedFuture { try outbound.pipeline.syncOperations.addHandler(backward.value) }
      }
      .connect(host: "127.0.0.1", port: targetPort)
      .flatMapThrowing { [self] outbound in
        let connection = ProxiedConnection(inbound: inbound, outbound: outbound)
        let forward = ForwardingHandler(link: self, partner: outbound)
        forward.connection = connection
        backward.value.connection = connection
        forward.opposite = backward.value
        backward.value.opposite = forward
        try inbound.pipeline.syncOperations.addHandler(forward)
        register(connection)
        // The mode may have changed while connecting; a refused link must not keep it.
        if self.mode == .refusing { connection.close() }
      }
  }

  private func register(_ connection: ProxiedConnection) {
    let key = ObjectIdentifier(connection)
    state.withLock { $0.connections[key] = connection }
    connection.inbound.closeFuture.whenComplete { [self] _ in
      connection.close()
      state.withLock { _ = $0.connections.removeValue(forKey: key) }
    }
  }

  /// What to do with a chunk of `byteCount` bytes read from one side.
  func decide(byteCount: Int) -> ChunkDecision {
    state.withLock { state in
      switch state.mode {
      case .open:
        state.counters.bytesForwarded += byteCount
        return .forward(delayMilliseconds: 0)
      case .delayed(let minimum, let jitter):
        state.counters.bytesForwarded += byteCount
        let extra = jitter > 0 ? state.random.integer(in: 0...jitter) : 0
        return .forward(delayMilliseconds: minimum + extra)
      case .lossy(let perMille):
        if state.random.chance(UInt64(max(0, perMille)), in: 1000) {
          state.counters.bytesDiscarded += byteCount
          return .kill
        }
        state.counters.bytesForwarded += byteCount
        return .forward(delayMilliseconds: 0)
      case .blackhole:
        state.counters.bytesDiscarded += byteCount
        return .discard
      case .refusing:
        state.counters.bytesDiscarded += byteCount
        return .kill
      }
    }
  }

  func noteDiscarded(_ byteCount: Int) {
    state.withLock { $0.counters.bytesDiscarded += byteCount }
  }
}

/// A proxy's verdict on one chunk.
enum ChunkDecision {
  case forward(delayMilliseconds: Int)
  case discard
  case kill
}

/// Both sides of one proxied connection (the outbound side is nil while blackholed).
final class ProxiedConnection: Sendable {
  let inbound: any Channel
  let outbound: (any Channel)?
  /// Set once bytes were discarded: the stream has a hole and must be closed before use.
  let lostBytes = Atomic<Bool>(false)

  init(inbound: any Channel, outbound: (any Channel)?) {
    self.inbound = inbound
    self.outbound = outbound
  }

  func close() {
    inbound.close(promise: nil)
    outbound?.close(promise: nil)
  }
}
