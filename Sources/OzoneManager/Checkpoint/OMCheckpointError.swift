/// Why a checkpoint could not be taken, sent, or read back.
public struct OMCheckpointError: Error, Sendable, CustomStringConvertible {
  /// What went wrong, for a program to switch on.
  public enum Code: String, Sendable {
    /// RocksDB could not create the checkpoint, or its directory could not be prepared.
    case checkpointFailed
    /// The flushed term#index moved while the checkpoint was taken, on every attempt.
    case unstableTermIndex
    /// A checkpoint file changed size or could not be read while it was sent.
    case fileChanged
    /// The tar stream is not a ustar archive this reader understands.
    case malformedArchive
    /// The manifest is missing, not the first entry, or not valid JSON.
    case malformedManifest
    /// The OM asked is not the leader; `leaderAddress` says where to ask, when known.
    case notLeader
    /// The leader refused this OM (403): the checkpoint token is missing or wrong.
    case forbidden
    /// The leader is already sending as many checkpoints as it allows (429).
    case busy
    /// The leader answered something other than a checkpoint.
    case unexpectedResponse
    /// The connection could not be made, broke, or went idle before the checkpoint ended.
    case connectionLost
    /// Leadership moved away from the OM sending the checkpoint while it was sent.
    case leaderChanged
    /// The checkpoint is not newer than the database this OM already has.
    case notNewer
    /// The candidate directory's file system has less free space than the transfer needs, or
    /// ran out of it while the checkpoint was written.
    case insufficientSpace
    /// Writing the candidate directory failed for a reason other than space.
    case localWriteFailed
    /// A file's size or CRC-32C differs from the manifest, or the term#index from the header.
    case verificationFailed
    /// An SST the leader left out (the follower offered it) could not be linked from the kept
    /// database or no longer matches: compaction may have replaced it. Fetching everything helps.
    case keptFileUnusable
  }

  public let code: Code
  public let message: String
  /// The leader's HTTP address, for `notLeader` when the asked OM knew it.
  public let leaderAddress: String?

  public init(_ code: Code, _ message: String, leaderAddress: String? = nil) {
    self.code = code
    self.message = message
    self.leaderAddress = leaderAddress
  }

  public var description: String { "\(code.rawValue): \(message)" }
}
