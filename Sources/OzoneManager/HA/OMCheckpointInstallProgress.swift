/// A checkpoint install under way on a follower, as `o3 admin om roles --json` and the status
/// page show it.
public struct OMCheckpointInstallProgress: Codable, Sendable, Equatable {
  /// The OM the checkpoint comes from (the leader that sent the Raft snapshot notice).
  public var leaderId: String
  /// The checkpoint's term#index, once its manifest has arrived.
  public var termIndex: String?
  /// Bytes to fetch over the network (the files this OM does not hold); 0 until known.
  public var expectedBytes: UInt64
  /// Bytes of those files written so far.
  public var receivedBytes: UInt64
  /// Bytes of the SST files this OM already holds, hard-linked instead of fetched.
  public var keptBytes: UInt64
  /// When the install began, in milliseconds since 1970.
  public var startedAtMilliseconds: UInt64

  public init(
    leaderId: String, termIndex: String?, expectedBytes: UInt64, receivedBytes: UInt64, keptBytes: UInt64,
    startedAtMilliseconds: UInt64
  ) {
    self.leaderId = leaderId
    self.termIndex = termIndex
    self.expectedBytes = expectedBytes
    self.receivedBytes = receivedBytes
    self.keptBytes = keptBytes
    self.startedAtMilliseconds = startedAtMilliseconds
  }

  /// `installing checkpoint from om1, 1048576/4194304 bytes`: one line for a table or a page.
  public var summary: String {
    "installing checkpoint from \(leaderId), \(receivedBytes)/\(expectedBytes) bytes"
      + (termIndex.map { " (checkpoint \($0))" } ?? "")
  }
}
