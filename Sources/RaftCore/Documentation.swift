/// RaftCore: the Raft consensus algorithm as a pure, deterministic state machine.
///
/// ## Shape
///
/// ``RaftNode`` is a value type in the style of etcd-raft's `RawNode`. Its inputs are `tick()`,
/// `step(_:)`, `campaign()`, `propose(_:)`, `proposeMembershipChange(_:)`,
/// `readIndex(context:)`, `transferLeader(to:)`, `snapshotInstalled(_:membership:)`; its output
/// is a ``Ready`` acknowledged with `advance()`. It performs no I/O, reads no clock, starts no
/// thread, and draws randomness only from the injected ``RaftRandom`` (election jitter). Peers
/// are iterated in ascending ``PeerID`` order, so one seed and one input sequence give one run.
/// The core reads durable state through ``RaftStorage``; ``MemoryRaftStorage`` is the in-memory
/// implementation for tests and simulation. A new group starts from ``BootstrapLog``: each
/// founding peer's log holds one committed membership entry per initial member, so the log
/// alone explains every membership and a joining peer (empty log) learns it by replication.
///
/// ## Durability contract
///
/// For each ``Ready``: persist `snapshot`, then `entries`, then `hardState` (fsync when
/// `mustSync`); only then send `messages`; then apply `committedEntries`; then `advance()`.
/// Sending before the fsync can elect two leaders (a vote forgotten in a crash) or lose a
/// committed entry (an acknowledgement for an entry that is not on disk). The leader counts its
/// own log toward a quorum only after `advance()` says it is durable, and committed entries are
/// handed out only once durable, so a single-peer group never reports a commit it could lose.
/// Inputs may arrive while a Ready is outstanding; if one replaces log entries that a queued
/// (not yet handed out) acknowledgement covers, the acknowledgement is withdrawn, since the
/// next Ready persists the replacement and the promise would be false.
///
/// ## Guarantees (given the contract and a storage that does not lie)
///
/// * Election safety: at most one leader per term (one durable vote per term; paper §5.2).
/// * Log matching and leader completeness (paper §5.3, §5.4.1): a committed entry is in the log
///   of every later leader; a follower never truncates a committed entry (checked by
///   `precondition`, whatever order or multiplicity AppendEntries arrive in).
/// * Only entries of the leader's current term are committed by counting replicas; earlier
///   ones commit with them (paper §5.4.2, Figure 8).
/// * Linearizable reads: a ``ReadState`` is issued only after the leader committed an entry of
///   its term and (in `.readIndex` mode) a majority answered a heartbeat sent after the request
///   arrived (thesis §6.4). `.leaseBased` reads trust check-quorum instead (thesis §6.4.1) and
///   are only as safe as the tick rates are similar.
/// * Liveness aids: pre-vote (thesis §9.6) keeps a returning peer from deposing a healthy
///   leader; check-quorum makes a leader cut off from its majority step down within an election
///   timeout; leadership transfer (thesis §3.10) hands over without an election timeout.
///
/// ## Membership: a change takes effect when it is appended (Raft thesis §4.1)
///
/// Every peer uses the newest membership in its log, committed or not; truncating a conflicting
/// tail rolls the membership back. Changes are single-server (add learner, add voter, promote
/// learner, remove peer); a leader accepts a change only when the previous one is committed and
/// it has committed an entry of its own term (the fix for the bug Ongaro reported in 2015).
///
/// Why not etcd-raft's "when applied": every peer then decides quorums with the membership it
/// has applied, which may lag by more than one change behind a peer that applied more, and two
/// memberships two changes apart need not have overlapping majorities. Taking effect on append
/// keeps the thesis' argument intact: any two memberships in use at once differ by one server.
/// It also lets a two-voter group remove a voter without wedging. The costs, all handled here:
/// * A leader that removes itself keeps leading without counting itself until the removal
///   commits (thesis §4.2.2), then steps down after sending `timeoutNow` to an up-to-date voter.
/// * A peer removed before it learns of it keeps its old membership and may try to campaign;
///   pre-vote and the check-quorum lease make the others ignore it, and the leader stops sending
///   to it once the removal is appended.
/// * A voter whose log holds its own removal, not yet committed, still campaigns (thesis
///   §4.2.2, Figure 4.6), though its own vote does not count. Peers without the removal may
///   need its vote, which it refuses them while its log is longer: a leader cut off right after
///   appending "remove me" would otherwise leave the others leaderless for good. Elected by a
///   majority of the newest membership, it commits the removal and steps down as above. Safety
///   is the usual argument (any two memberships in use differ by one server, so their
///   majorities overlap), which nowhere needs the candidate to be a member. Once it knows the
///   removal committed (a later change proves it too) it never campaigns again. Every peer
///   answers votes and AppendEntries whatever its own membership says (thesis §4.1): the vote
///   of a joining or departing peer may be the one that decides.
/// * Removing and re-adding a peer in one term starts its progress afresh; its log is kept, so
///   late answers from before the removal remain true. A peer id is never reused for a peer
///   whose log was wiped.
///
/// ## Snapshots: notification mode
///
/// Snapshot bytes never go through Raft. When a follower needs entries the leader has
/// compacted, the leader sends a notice (its compaction point) and stops sending to that
/// follower. The follower's Ready carries a ``SnapshotNotice``; its state machine fetches a
/// checkpoint out of band and calls `snapshotInstalled(_:membership:)` with the term/index
/// installed (at or after the leader's compaction point) and the membership the checkpoint
/// records there. Only the checkpoint knows that membership: it may be newer than the log the
/// notice described (the notice's `membershipHistory` is informational and not trusted). The
/// follower's log restarts after it (`Ready.snapshot` to persist) and the leader probes from
/// the next index. A lost notice is re-sent after an election timeout; repeats are
/// answered "in progress" and not surfaced again, but may raise the required compaction point,
/// which `pendingSnapshotNotice` shows. An install older than that, or one the core no longer
/// expects (after a restart or a campaign), is refused and reported to the leader as failed.
/// The state machine may thus be ahead of the core's applied index: it must skip committed
/// entries at or below the index it has already applied.
///
/// ## Knobs (``RaftConfiguration``) and their bounds
///
/// | knob | default | bound |
/// |---|---|---|
/// | `electionTimeoutTicks` | 10 | ≥ 2 and > `heartbeatIntervalTicks`; actual timeout is random in [t, 2t) |
/// | `heartbeatIntervalTicks` | 1 | ≥ 1 |
/// | `preVote`, `checkQuorum` | on | `.leaseBased` reads require `checkQuorum` |
/// | `inflightMessagesMax` | 256 | 1 ... 65 536 AppendEntries in flight per follower |
/// | `inflightBytesMax` | 64 MiB | ≥ `messageBytesMax` payload bytes in flight per follower |
/// | `messageBytesMax` | 1 MiB | 1 B ... 256 MiB payload per AppendEntries (one larger entry still goes alone) |
/// | `uncommittedBytesMax` | 256 MiB | ≥ `messageBytesMax`; beyond it proposals fail with `uncommittedBytesExceeded` |
/// | `committedBytesPerReadyMax` | 64 MiB | 1 B ... 1 GiB of committed payload per Ready |
/// | `pendingReadRequestsMax` | 10 000 | 1 ... 1 000 000 reads awaiting confirmation |
/// | `appliedIndex` | 0 | ≤ the persisted commit index, on restart |
///
/// Flow control per follower follows etcd-raft: *probe* (one message in flight until it is
/// answered or a heartbeat answer arrives), *replicate* (stream within the inflight window by
/// count and bytes), *snapshot* (nothing until the checkpoint is reported). A rejection carries
/// a hint so that the leader skips a whole conflicting term per round trip.
public enum RaftCoreDocumentation {}
