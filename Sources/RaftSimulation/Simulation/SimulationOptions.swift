/// The shape of one simulated run: cluster size, fault mix, workload and phase lengths.
///
/// `swarm(seed:)` draws a different mix for every seed (TigerBeetle's swarm testing): a fault
/// that is rare under one mix is common under another, so rare paths get exercised on purpose.
/// Times are in virtual microseconds; a tick is `tickMicroseconds`.
public struct SimulationOptions: Hashable, Sendable {
  /// Nodes that exist (PeerIDs 1 ... nodeCount); 3 ... 5.
  public var nodeCount = 3
  /// The first `initialVoterCount` nodes form the group; the others start empty, as spares that
  /// membership changes may add.
  public var initialVoterCount = 3
  public var tickMicroseconds: UInt64 = 1_000
  public var electionTimeoutTicks = 10
  public var heartbeatIntervalTicks = 2
  /// The chaos phase; the liveness phase follows.
  public var safetyPhaseTicks = 300
  /// How long the healed core may take to elect a leader, finish every request and converge.
  public var livenessBoundTicks = 250

  public var messageLossPercent: UInt64 = 2
  public var messageDuplicatePercent: UInt64 = 2
  public var messageDelayMinimumMicroseconds: UInt64 = 50
  public var messageDelayMaximumMicroseconds: UInt64 = 400
  /// Messages that take up to `longDelayMaximumMicroseconds` instead (reordering across ticks).
  public var longDelayPercent: UInt64 = 2
  public var longDelayMaximumMicroseconds: UInt64 = 8_000
  public var fsyncMinimumMicroseconds: UInt64 = 20
  public var fsyncMaximumMicroseconds: UInt64 = 600

  /// Mean gap between two fault decisions.
  public var faultIntervalTicks = 12
  /// Relative weights of the faults chosen at each decision.
  public var crashWeight: UInt64 = 3
  public var pauseWeight: UInt64 = 2
  public var partitionWeight: UInt64 = 3
  public var membershipChangeWeight: UInt64 = 2
  public var leaderTransferWeight: UInt64 = 1
  public var compactionWeight: UInt64 = 3
  /// How long a crashed node stays down, and a paused one stopped.
  public var downTicksMaximum = 40
  public var partitionTicksMaximum = 60

  public var clientCount = 3
  public var keyCount = 3
  public var clientTimeoutTicks = 30
  /// Attempts per operation after "not leader" answers before the client gives up on it.
  public var clientAttemptsMax = 6
  public var clientThinkMicroseconds: UInt64 = 1_500

  /// A deliberate driver bug, to show that the checks catch it; nil in every real run.
  public var sabotage: SimulationSabotage?

  public init() {}

  /// A fault and workload mix drawn from `seed`, independent of the run's own draws.
  public static func swarm(seed: UInt64) -> SimulationOptions {
    var random = SimulationRandom(seed: seed ^ 0x5157_A4A4_0000_0001)
    var options = SimulationOptions()
    options.nodeCount = random.integer(in: 3...5)
    options.initialVoterCount =
      options.nodeCount > 3 && random.chance(1, in: 2) ? options.nodeCount - 1 : options.nodeCount
    options.messageLossPercent = random.element(of: [0, 1, 5, 15])
    options.messageDuplicatePercent = random.element(of: [0, 2, 10])
    options.longDelayPercent = random.element(of: [0, 2, 8])
    options.messageDelayMaximumMicroseconds = random.element(of: [200, 600, 2_000])
    options.fsyncMaximumMicroseconds = random.element(of: [100, 600, 3_000])
    options.faultIntervalTicks = random.element(of: [6, 12, 25])
    options.crashWeight = random.element(of: [0, 2, 5])
    options.pauseWeight = random.element(of: [0, 2])
    options.partitionWeight = random.element(of: [0, 3, 6])
    options.membershipChangeWeight = random.element(of: [0, 2, 4])
    options.leaderTransferWeight = random.element(of: [0, 1])
    options.compactionWeight = random.element(of: [1, 3, 6])
    options.clientCount = random.integer(in: 2...4)
    options.keyCount = random.integer(in: 1...4)
    return options
  }

  /// Every fault weight summed; zero means a fault-free run.
  var totalFaultWeight: UInt64 {
    crashWeight + pauseWeight + partitionWeight + membershipChangeWeight + leaderTransferWeight
      + compactionWeight
  }
}

/// Driver bugs the simulator can inject into itself, to prove its checks are not blind.
public enum SimulationSabotage: Hashable, Sendable {
  /// Every node answers a get from its own state at once, skipping ReadIndex: a follower or a
  /// deposed leader serves stale values (etcd#741).
  case readsServedLocally
  /// Messages leave before the Ready's writes are synced: a crash can then forget a vote or an
  /// acknowledged entry.
  case sendBeforeSync
}
