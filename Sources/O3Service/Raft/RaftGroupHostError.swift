import Raft

/// Why a ``RaftMultiGroupHost`` refused to add or remove a group, or could not.
public struct RaftGroupHostError: Error, Sendable, CustomStringConvertible {
  /// What went wrong, in a form a program can switch on.
  public enum Code: String, Sendable, Hashable {
    /// The group is hosted already (running, or stopped after a failure and not yet removed).
    /// Ozone treats a create-pipeline for a pipeline the datanode has as done.
    case alreadyExists
    /// No group with this id is hosted.
    case notFound
    /// The group is being added or removed right now; try again.
    case busy
    /// The group was removed earlier in this process's life. Adding it again would bring back a
    /// replica without the log and the vote it had, which could let it vote twice in one term;
    /// pipeline ids are fresh UUIDs, so a new pipeline never needs an old id.
    case removedEarlier
    /// The spec is not usable: no members, a member twice, a bad address, or this peer is not a
    /// member. Nothing was created.
    case invalidSpec
    /// The group's directory could not be created, read or removed.
    case storageFailure
    /// The group failed as it started (its log, its state machine, or a fatal error right away).
    case groupFailed
    /// The host is shutting down.
    case stopped
  }

  public var code: Code
  public var group: RaftGroupID
  public var message: String

  public init(_ code: Code, _ group: RaftGroupID, _ message: String) {
    self.code = code
    self.group = group
    self.message = message
  }

  public var description: String { "\(code.rawValue) (Raft group \(group)): \(message)" }
}
