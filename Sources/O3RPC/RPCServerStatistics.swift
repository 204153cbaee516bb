import Synchronization

/// Counters of one RPC server since it started, for metrics and for tests.
public struct RPCServerStatistics: Sendable, Equatable {
  /// Connections accepted and served.
  public var connectionsAccepted: Int
  /// Connections closed on arrival because `RPCLimits.maxConnections` were open.
  public var connectionsRefused: Int
  /// Frames whose declared length exceeded `RPCLimits.maxFrameBytes` (each closed its connection).
  public var framesRefusedAsTooLarge: Int
  /// Frames that could not be parsed (answered with MALFORMED_REQUEST or closing the connection).
  public var framesMalformed: Int
  /// Calls refused with OVERLOADED because the connection had too many outstanding.
  public var callsRefusedAsOverloaded: Int
  /// Reply frames written (responses and errors).
  public var repliesWritten: Int
  /// Flushes of reply frames; `repliesWritten / flushes` is how many replies one write carried.
  public var flushes: Int
}

/// The live counters behind `RPCServerStatistics`, shared by every connection of a server.
///
/// Connections count on their own event loops; relaxed atomics are enough because each counter
/// is independent and read only as a snapshot.
final class RPCServerCounters: Sendable {
  let connectionsAccepted = Atomic<Int>(0)
  let connectionsRefused = Atomic<Int>(0)
  let framesRefusedAsTooLarge = Atomic<Int>(0)
  let framesMalformed = Atomic<Int>(0)
  let callsRefusedAsOverloaded = Atomic<Int>(0)
  let repliesWritten = Atomic<Int>(0)
  let flushes = Atomic<Int>(0)

  /// Counts one flush that carried `replies` reply frames.
  func recordFlush(replies: Int) {
    guard replies > 0 else { return }
    repliesWritten.add(replies, ordering: .relaxed)
    flushes.add(1, ordering: .relaxed)
  }

  var snapshot: RPCServerStatistics {
    RPCServerStatistics(
      connectionsAccepted: connectionsAccepted.load(ordering: .relaxed),
      connectionsRefused: connectionsRefused.load(ordering: .relaxed),
      framesRefusedAsTooLarge: framesRefusedAsTooLarge.load(ordering: .relaxed),
      framesMalformed: framesMalformed.load(ordering: .relaxed),
      callsRefusedAsOverloaded: callsRefusedAsOverloaded.load(ordering: .relaxed),
      repliesWritten: repliesWritten.load(ordering: .relaxed),
      flushes: flushes.load(ordering: .relaxed))
  }
}
