import RaftCore

/// Why a proposal, read or admin request did not succeed.
public enum RaftServerError: Error, Sendable, CustomStringConvertible {
  /// This peer does not lead; `leader` is who does, when known.
  case notLeader(leader: PeerID?)
  /// This peer leads but has not yet applied an entry of its term, so reads could be stale and
  /// the state machine is not caught up (Ozone's LEADER_NOT_READY).
  case leaderNotReady
  /// The entry at the proposal's index was replaced by another leader's: it did not commit.
  case notCommitted
  /// No answer in time; a proposal may or may not commit later.
  case timeout
  /// The server is shutting down or stopped after a fatal error.
  case stopped
  /// The core refused the request (transfer in progress, too many uncommitted bytes…).
  case refused(RaftError)

  public var description: String {
    switch self {
    case .notLeader(let leader): "not the leader" + (leader.map { "; the leader is \($0)" } ?? "; no leader known")
    case .leaderNotReady: "the leader is not ready yet (it has not applied an entry of its term)"
    case .notCommitted: "the proposal was overwritten by a new leader and did not commit"
    case .timeout: "timed out"
    case .stopped: "the Raft server is stopped"
    case .refused(let error): "refused: \(error)"
    }
  }

  static func from(_ error: RaftError) -> RaftServerError {
    switch error.code {
    case .notLeader: .notLeader(leader: error.leaderHint)
    case .leaderNotReady: .leaderNotReady
    default: .refused(error)
    }
  }
}
