import RaftSimulation

/// The faults a nemesis schedule is made of.
enum NemesisKind: String, CaseIterable, Sendable {
  /// kill -9 of a random OM, restarted after the hold.
  case killRandom = "kill-random"
  /// kill -9 of the leader, restarted after the hold.
  case killLeader = "kill-leader"
  /// SIGSTOP of the leader for longer than the election timeout, then SIGCONT.
  case pauseLeader = "pause-leader"
  /// SIGSTOP of a random OM, then SIGCONT.
  case pauseRandom = "pause-random"
  /// A random minority cut off from the majority (peer links both ways).
  case partitionMinority = "partition-minority"
  /// The leader cut off from every peer; clients still reach it.
  case isolateLeader = "isolate-leader"
  /// Two sides that cannot talk, and one OM that talks to both.
  case bridge
  /// Nothing the leader sends reaches its peers; it still hears them.
  case leaderMute = "leader-mute"
  /// Nothing reaches the leader from its peers; what it sends still arrives.
  case leaderDeaf = "leader-deaf"
  /// Every peer link delayed by tens to hundreds of milliseconds, with jitter.
  case delay
  /// Half the peer links kill their connections at random (bytes in flight lost).
  case lossy
  /// Every connection of one OM's peer links closed at once.
  case cut
  /// Half the clients cut off from the leader (their requests hang, then fail over).
  case clientPartition = "client-partition"

  /// How often the kind is drawn, relative to the others.
  var weight: Int {
    switch self {
    case .killRandom, .killLeader, .pauseLeader, .partitionMinority, .isolateLeader: 3
    case .pauseRandom, .bridge, .leaderMute, .leaderDeaf, .delay, .lossy: 2
    case .cut, .clientPartition: 1
    }
  }

  /// Whether the fault needs a hold longer than the election timeout to mean anything.
  var isPause: Bool { self == .pauseLeader || self == .pauseRandom }
}

/// One planned fault: what, on which OMs (by position in `order`, resolved when it runs),
/// for how long, and the pause after healing it.
struct NemesisEvent: Sendable, CustomStringConvertible {
  var number: Int
  var kind: NemesisKind
  /// A permutation of the node indices: the event takes its random OMs from the front.
  var order: [Int]
  var holdMilliseconds: Int
  var gapMilliseconds: Int
  /// The size of the fault where it has one: a delay in milliseconds, a loss rate in ‰.
  var parameter: Int
  /// Draws for choices made when the event runs (which links, which clients).
  var seed: UInt64

  var description: String { "#\(number) \(kind.rawValue)" }
}

/// How long faults last, in milliseconds; drawn uniformly from the ranges.
struct NemesisTiming: Sendable {
  var hold: ClosedRange<Int> = 800...2_500
  /// Longer than twice `ozone.om.ratis.minimum.timeout` (1 s in fault clusters), so that a
  /// paused leader is always deposed.
  var pauseHold: ClosedRange<Int> = 2_500...4_000
  var gap: ClosedRange<Int> = 200...900
}

/// A deterministic list of nemesis events drawn from one seed.
enum NemesisSchedule {
  static func make(seed: UInt64, count: Int, nodeCount: Int, kinds: [NemesisKind], timing: NemesisTiming) -> [NemesisEvent] {
    precondition(!kinds.isEmpty, "a schedule needs at least one kind of fault")
    var random = SimulationRandom(seed: seed)
    let totalWeight = kinds.reduce(0) { $0 + $1.weight }
    return (0..<count).map { index in
      var draw = random.integer(in: 0...(totalWeight - 1))
      var kind = kinds[0]
      for candidate in kinds {
        if draw < candidate.weight {
          kind = candidate
          break
        }
        draw -= candidate.weight
      }
      var order = Array(0..<nodeCount)
      for index in stride(from: order.count - 1, to: 0, by: -1) {
        order.swapAt(index, random.integer(in: 0...index))
      }
      let parameter: Int =
        switch kind {
        case .delay: random.integer(in: 20...200)
        case .lossy: random.integer(in: 20...150)
        default: 0
        }
      return NemesisEvent(
        number: index + 1, kind: kind, order: order,
        holdMilliseconds: random.integer(in: kind.isPause ? timing.pauseHold : timing.hold),
        gapMilliseconds: random.integer(in: timing.gap), parameter: parameter, seed: random.next())
    }
  }
}
