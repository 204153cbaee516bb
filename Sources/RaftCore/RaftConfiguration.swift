/// The knobs of one Raft peer, each with a named bound checked by ``validate()``.
///
/// Time is counted in ticks: the driver calls `RaftNode.tick()` at a fixed interval (O3's
/// runtime derives the interval from `ozone.om.ratis.minimum.timeout`).
public struct RaftConfiguration: Hashable, Sendable {
  /// This peer.
  public var id: PeerID
  /// Ticks without hearing from a leader before a follower campaigns; each election waits a
  /// random number of ticks in `electionTimeoutTicks ..< 2 * electionTimeoutTicks`. Also the
  /// period of check-quorum and the timeout of a leadership transfer. At least 2 and more than
  /// `heartbeatIntervalTicks`; 10 by default.
  public var electionTimeoutTicks: Int = 10
  /// Ticks between a leader's heartbeats. At least 1; 1 by default.
  public var heartbeatIntervalTicks: Int = 1
  /// Campaign only after a pre-vote round shows a majority would vote (Raft thesis §9.6), so a
  /// peer that was cut off does not raise terms and depose a healthy leader when it returns.
  public var preVote: Bool = true
  /// A leader that has not heard from a majority for an election timeout steps down, and a
  /// follower that heard from a leader within the election timeout ignores vote requests.
  public var checkQuorum: Bool = true
  /// How the leader confirms a read; `.leaseBased` requires `checkQuorum`.
  public var readMode: ReadMode = .readIndex
  /// AppendEntries messages in flight per follower in the replicate state. 1 ... 65_536;
  /// 256 by default.
  public var inflightMessagesMax: Int = 256
  /// Entry payload bytes in flight per follower. At least `messageBytesMax`; 64 MiB by default.
  public var inflightBytesMax: Int = 64 << 20
  /// Entry payload bytes per AppendEntries message (a single larger entry is still sent alone).
  /// 1 ... 256 MiB; 1 MiB by default.
  public var messageBytesMax: Int = 1 << 20
  /// Payload bytes a leader accepts into its log beyond the commit index before it refuses
  /// proposals (a single proposal is accepted when nothing is uncommitted). At least
  /// `messageBytesMax`; 256 MiB by default.
  public var uncommittedBytesMax: Int = 256 << 20
  /// Payload bytes of committed entries handed out in one ``Ready`` (at least one entry).
  /// 1 ... 1 GiB; 64 MiB by default.
  public var committedBytesPerReadyMax: Int = 64 << 20
  /// Read requests waiting for leadership confirmation or for the leader's first commit.
  /// 1 ... 1_000_000; 10_000 by default.
  public var pendingReadRequestsMax: Int = 10_000
  /// The index the state machine has durably applied, when restarting; 0 for a new peer.
  public var appliedIndex: UInt64 = 0

  public init(id: PeerID) {
    self.id = id
  }

  /// How a leader makes sure it is still leader before it serves a read.
  public enum ReadMode: Hashable, Sendable {
    /// Confirm with a heartbeat round to a majority (Raft thesis §6.4). Always safe.
    case readIndex
    /// Trust check-quorum's lease: a leader that heard from a majority within the election
    /// timeout is still leader (thesis §6.4.1). Safe only if tick rates differ by less than
    /// the gap between the election timeout and the time a follower waits before voting.
    case leaseBased
  }

  /// Checks every knob against its bound.
  public func validate() throws(RaftError) {
    func require(_ condition: Bool, _ message: String) throws(RaftError) {
      if !condition { throw RaftError(.invalidConfiguration, message) }
    }
    try require(heartbeatIntervalTicks >= 1, "heartbeatIntervalTicks must be at least 1")
    try require(electionTimeoutTicks >= 2, "electionTimeoutTicks must be at least 2")
    try require(
      electionTimeoutTicks > heartbeatIntervalTicks,
      "electionTimeoutTicks must exceed heartbeatIntervalTicks")
    try require(
      (1...65_536).contains(inflightMessagesMax), "inflightMessagesMax must be in 1...65536")
    try require((1...(256 << 20)).contains(messageBytesMax), "messageBytesMax must be in 1...256 MiB")
    try require(inflightBytesMax >= messageBytesMax, "inflightBytesMax must be >= messageBytesMax")
    try require(
      uncommittedBytesMax >= messageBytesMax, "uncommittedBytesMax must be >= messageBytesMax")
    try require(
      (1...(1 << 30)).contains(committedBytesPerReadyMax),
      "committedBytesPerReadyMax must be in 1...1 GiB")
    try require(
      (1...1_000_000).contains(pendingReadRequestsMax),
      "pendingReadRequestsMax must be in 1...1000000")
    try require(readMode == .readIndex || checkQuorum, "lease-based reads require checkQuorum")
  }
}
