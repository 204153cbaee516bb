import NIOCore

/// The bounds every O3RPC connection enforces; the same values serve client and server.
public struct RPCLimits: Sendable {
  /// Largest frame (header + payload, after the 4-byte length field) either side accepts.
  ///
  /// 64 MiB: the largest legitimate frames are Raft AppendEntries batches and listing pages, both
  /// capped far below this by their own limits; DB snapshots travel over HTTP, not RPC. It is
  /// Hadoop IPC's historical `ipc.maximum.data.length`. A frame declaring more is refused before
  /// any of it is buffered, and the connection is closed. Must be in 64...Int32.max.
  public var maxFrameBytes: Int = 64 << 20

  /// Calls one connection may have outstanding. The client refuses the next call with
  /// `RPCError.tooManyOutstandingCalls`; the server answers it with OVERLOADED.
  /// 4096 covers a Raft pipeline or a busy OzoneClient many times over while bounding the
  /// per-connection bookkeeping.
  public var maxOutstandingCallsPerConnection: Int = 4096

  /// The server closes a connection that has read nothing for this long and has no call
  /// outstanding; nil disables it. Five minutes outlives any client pause worth keeping a socket
  /// for; a Raft peer's heartbeats keep its connection alive. Clients never close on idleness.
  public var idleTimeout: TimeAmount? = .minutes(5)

  /// Connections one server accepts at once; further ones are closed on arrival.
  public var maxConnections: Int = 4096

  public init() {}

  /// Checks the values are usable; a bad value is a configuration bug, so it stops the process.
  func validate() {
    precondition(
      (64...Int(Int32.max)).contains(maxFrameBytes),
      "RPCLimits.maxFrameBytes must be in 64...\(Int32.max), is \(maxFrameBytes)")
    precondition(
      maxOutstandingCallsPerConnection > 0,
      "RPCLimits.maxOutstandingCallsPerConnection must be positive")
    precondition(maxConnections > 0, "RPCLimits.maxConnections must be positive")
  }
}
