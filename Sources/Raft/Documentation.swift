/// Raft: the runtime that makes RaftCore's decisions real on disks and networks.
///
/// ## Threads and hand-offs
///
/// * The **loop thread** (`RaftLoop`) owns the core. It takes inputs in batches — inbound
///   messages, proposals, reads, admin requests, completions — ticks the core every
///   `tickMilliseconds`, and runs one `Ready` at a time: it writes the Ready's snapshot metadata,
///   entries and hard state to the `DurableRaftLog` and fsyncs once when the Ready says
///   `mustSync`, then sends, applies and advances — through its `ReadyHandler`, the one
///   implementation of that order, which the simulator drives too. Inputs that arrive during the
///   fsync gather in the inbox, so the next Ready carries all of them and one fsync covers them
///   (group commit).
///   Messages that wait for persistence are sent only after the Ready is durable: a follower
///   acknowledges only fsync'd entries, and the core counts the leader's own log only after
///   `advance()` (RaftCore's durability contract); a leader's appends leave before its fsync.
/// * The **apply thread** (`ApplyLoop`) hands committed entries to the `ReplicatedStateMachine` in
///   log order, completes each proposal with the response to its own entry (or `notCommitted` if
///   another leader's entry took the index), runs linearizable reads once the apply reaches their
///   read index, installs checkpoints on a snapshot notice (applying nothing meanwhile), and purges
///   the log behind the state machine's durably applied index minus `purgeGap`.
/// * The **transport** (`RaftTransport`; RaftRPC implements it over O3RPC) delivers inbound
///   batches to the loop and sends a Ready's messages in one call.
///
/// ## Guarantees
///
/// Those of RaftCore, given that the log does not lie: an acknowledged proposal is applied on a
/// majority's durable log and will be applied by every replica in the same order; a read
/// answered by `query` reflects every write acknowledged before the read began (ReadIndex, or the
/// check-quorum lease when `RaftConfiguration.readMode` is `.leaseBased`). A failure to write the
/// log or to apply an entry is fatal (`onFatalError`): the replica stops rather than diverge. A
/// full log disk (ENOSPC, EDQUOT) is not: the loop keeps the Ready it could not persist (sending,
/// applying and advancing nothing of it), refuses new requests as not the leader, and persists it
/// again after a backoff (100 ms doubling to 5 s, counted in ticks) until space returns.
///
/// ## Knobs
///
/// `RaftServerConfiguration`: `tickMilliseconds` (default 500: with 10 election ticks, Ozone's
/// 5 s minimum election timeout), `purgeGap` (`ozone.om.ratis.log.purge.gap`, default 1,000,000),
/// `requestTimeoutMilliseconds` (default 30 s; a timed-out proposal may still commit). The log's
/// segment size (`ozone.om.ratis.segment.size`, 64MB) is given to `DurableRaftLog.open`.
enum RaftRuntimeDocumentation {}
