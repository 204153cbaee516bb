import Raft
import RaftCore

/// One simulated OM replica: the Raft core inside the runtime's Ready handler, its disk and its
/// key-value state machine, plus the requests it is serving. Everything but the disk is volatile
/// and lost in a crash.
struct SimulatedNode {
  enum Condition: Equatable {
    case running
    /// Stopped like SIGSTOP: nothing runs; arriving work waits in `deferred`.
    case paused
    case crashed
  }

  /// A proposal this node made for a client, answered when its index is applied.
  struct PendingProposal {
    var position: TermIndex
    var clientIndex: Int
    var command: ClientCommand
    var attempt: Int
  }

  /// A ReadIndex read this node asked for, answered once applied reaches its read index.
  struct PendingRead {
    var clientIndex: Int
    var command: ClientCommand
    var attempt: Int
    var readIndex: UInt64?
  }

  /// Work that arrived while the node was paused, bounded like a socket buffer.
  static let deferredEventsMax = 2_048

  let id: PeerID
  var disk: SimulatedDisk
  /// The runtime's Ready handling around the core; nil while crashed.
  var runtime: ReadyHandler<MemoryRaftStorage>?
  var stateMachine: KeyValueStateMachine
  var condition: Condition = .running
  /// Bumped at every crash, so that timers of an earlier life are ignored.
  var incarnation: UInt64 = 0
  var proposals: [UInt64: PendingProposal] = [:]
  /// Reads by context bytes; answered in `readIndex` order.
  var reads: [[UInt8]: PendingRead] = [:]
  /// Contexts of reads confirmed by a ReadState, waiting for the state machine to catch up.
  var confirmedReads: [[UInt8]] = []
  var deferred: [SimulationEvent] = []
  /// A downloaded checkpoint to install once no Ready is outstanding.
  var checkpointToInstall: StateMachineCheckpoint?
  /// The newest durable term and vote, which no crash may take back.
  var durableHardState = HardState()

  init(id: PeerID, membership: Membership) {
    self.id = id
    disk = SimulatedDisk(membership: membership)
    stateMachine = KeyValueStateMachine(membership: disk.live.snapshot.membership)
  }

  /// The core, to read (mutate it through `runtime`).
  var raft: RaftNode<MemoryRaftStorage>? { runtime?.node }

  var isRunning: Bool { condition == .running && runtime != nil }
}
