import RaftCore

/// Completion of a proposal: the state machine's response, or why there is none.
typealias ProposalWaiter = @Sendable (Result<[UInt8], RaftServerError>) -> Void
/// Completion of a linearizable read.
typealias ReadWaiter = @Sendable (Result<[UInt8], RaftServerError>) -> Void

/// Everything that reaches the Raft loop, in the order it arrived.
enum RaftInput: Sendable {
  case messages([RaftMessage])
  case propose([UInt8], ProposalWaiter)
  case membershipChange(MembershipChange, ProposalWaiter)
  case read([UInt8], ReadWaiter)
  case transfer(PeerID, @Sendable (RaftServerError?) -> Void)
  /// The state machine installed a checkpoint (nil: it failed).
  case snapshotInstalled(InstalledCheckpoint?)
  case unreachable(PeerID)
  case status(@Sendable (RaftStatus) -> Void)
}

/// Lets the generic core hold whichever `RaftLogStore` the server was given.
struct AnyRaftLogStore: RaftStorage {
  let base: any RaftLogStore

  var hardState: HardState { base.hardState }
  var snapshot: SnapshotMetadata { base.snapshot }
  var firstIndex: UInt64 { base.firstIndex }
  var lastIndex: UInt64 { base.lastIndex }

  func term(at index: UInt64) throws(RaftStorageError) -> UInt64 {
    try base.term(at: index)
  }

  func entries(in range: Range<UInt64>, payloadBytesMax: Int) throws(RaftStorageError) -> [LogEntry] {
    try base.entries(in: range, payloadBytesMax: payloadBytesMax)
  }
}
