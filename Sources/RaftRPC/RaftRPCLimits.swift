import NIOCore
import O3RPC

/// The bounds of a ``RaftRPCTransport``: batch size, pipelining depth, queued bytes, reconnect
/// backoff and timeouts, plus the O3RPC limits of its connections.
public struct RaftRPCLimits: Sendable {
  /// Largest "raft.messages" payload, in bytes: Ozone's
  /// `ozone.om.ratis.log.appender.queue.byte-limit` (32 MiB by default). Messages are packed
  /// into batches up to this size; an AppendEntries larger than it is split into several with
  /// consecutive entry ranges; a single entry or other message larger than it is refused with an
  /// error log. At least ``batchBytesMinimum``, and at most `rpc.maxFrameBytes` minus
  /// ``frameHeaderReserveBytes`` so that every batch fits one O3RPC frame.
  public var batchBytesMax: Int = 32 << 20

  /// Calls one peer's connection may have unanswered at once: the pipelining depth. 256 matches
  /// RaftCore's default inflight window, which bounds AppendEntries in flight anyway; at most
  /// `rpc.maxOutstandingCallsPerConnection`.
  public var outstandingCallsPerPeerMax: Int = 256

  /// Encoded bytes waiting for one peer (not yet handed to its connection). A batch that would
  /// exceed it is dropped, counted and logged. At least `batchBytesMax`; 64 MiB by default.
  public var queuedBytesPerPeerMax: Int = 64 << 20

  /// The wait before the first reconnect attempt after a failed one; it doubles with every
  /// further failure up to `reconnectDelayMax`.
  public var reconnectDelayMin: TimeAmount = .milliseconds(50)

  /// The longest wait between reconnect attempts to a peer that is down.
  public var reconnectDelayMax: TimeAmount = .seconds(2)

  /// How long one connection attempt may take.
  public var connectTimeout: TimeAmount = .seconds(2)

  /// How long a batch may wait for its (empty) reply before its messages count as dropped.
  /// Raft repeats what matters, so this only bounds how long a stuck peer holds a call slot.
  public var callTimeout: TimeAmount = .seconds(10)

  /// The O3RPC limits of the server and of every peer connection.
  public var rpc = RPCLimits()

  /// The smallest `batchBytesMax` accepted: room for any vote, heartbeat or small append.
  public static let batchBytesMinimum = 1024

  /// Bytes of an O3RPC frame that are not payload, rounded up: a 14-byte fixed header and a
  /// method name of at most 255 bytes.
  public static let frameHeaderReserveBytes = 512

  public init() {}

  /// Checks every bound, and that batches fit O3RPC frames and the peer queue.
  public func validate() throws(RaftRPCError) {
    func require(_ condition: Bool, _ message: String) throws(RaftRPCError) {
      if !condition { throw RaftRPCError(.invalidConfiguration, message) }
    }
    let batchCeiling = rpc.maxFrameBytes - Self.frameHeaderReserveBytes
    try require(
      batchBytesMax >= Self.batchBytesMinimum,
      "the Raft batch limit (ozone.om.ratis.log.appender.queue.byte-limit) is \(batchBytesMax) "
        + "bytes; it must be at least \(Self.batchBytesMinimum)")
    try require(
      batchBytesMax <= batchCeiling,
      "the Raft batch limit (ozone.om.ratis.log.appender.queue.byte-limit) is \(batchBytesMax) "
        + "bytes, more than fits an RPC frame of \(rpc.maxFrameBytes) bytes; set it to at most "
        + "\(batchCeiling)")
    try require(
      outstandingCallsPerPeerMax >= 1
        && outstandingCallsPerPeerMax <= rpc.maxOutstandingCallsPerConnection,
      "outstandingCallsPerPeerMax is \(outstandingCallsPerPeerMax); it must be in "
        + "1...\(rpc.maxOutstandingCallsPerConnection) (the RPC connection's bound)")
    try require(
      queuedBytesPerPeerMax >= batchBytesMax,
      "queuedBytesPerPeerMax (\(queuedBytesPerPeerMax)) must be at least the batch limit "
        + "(\(batchBytesMax)), or a full batch could never be queued")
    try require(reconnectDelayMin > .zero, "reconnectDelayMin must be positive")
    try require(
      reconnectDelayMax >= reconnectDelayMin, "reconnectDelayMax must be at least reconnectDelayMin"
    )
    try require(connectTimeout > .zero, "connectTimeout must be positive")
    try require(callTimeout > .zero, "callTimeout must be positive")
  }

  /// The wait before the next attempt after `failures` consecutive failed attempts (at least 1):
  /// `reconnectDelayMin` doubled per failure after the first, capped at `reconnectDelayMax`.
  func reconnectDelay(afterFailures failures: Int) -> TimeAmount {
    precondition(failures >= 1, "a reconnect delay follows at least one failure")
    var delay = reconnectDelayMin
    for _ in 1..<failures {
      guard delay < reconnectDelayMax else { break }
      delay = delay + delay
    }
    return min(delay, reconnectDelayMax)
  }
}
