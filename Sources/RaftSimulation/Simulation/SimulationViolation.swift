/// A property the simulator found broken: which one (a code to switch on) and the evidence.
public struct SimulationViolation: Error, Hashable, Sendable, CustomStringConvertible {
  public var invariant: SimulationInvariant
  public var message: String

  public init(_ invariant: SimulationInvariant, _ message: String) {
    self.invariant = invariant
    self.message = message
  }

  public var description: String { "\(invariant.rawValue): \(message)" }
}

/// The properties the simulator checks, safety first, then liveness and client-visible ones.
public enum SimulationInvariant: String, Hashable, Sendable {
  /// Two nodes led the same term (paper §5.2, Election Safety).
  case electionSafety
  /// Two logs hold the same index and term with different contents or histories (§5.3).
  case logMatching
  /// A leader lacks an entry committed in an earlier term (§5.4, Leader Completeness).
  case leaderCompleteness
  /// Two nodes applied different entries or reached different states at one index (§5.4.3).
  case stateMachineSafety
  /// An entry was reported committed while fewer than a majority had it on synced storage.
  case commitWithoutDurableMajority
  /// A node's durable term went down, or its vote changed within a term, across a restart.
  case hardStateRegressed
  /// A message left before the state it depends on was synced (the Ready contract).
  case messageBeforeSync
  /// A leader held more than one uncommitted membership change.
  case concurrentMembershipChanges
  /// A checkpoint disagrees with the log it claims to summarise.
  case checkpointMismatch
  /// A client was told its operation certainly failed, yet it was applied.
  case refusedOperationApplied
  /// The client history is not linearizable (or could not be decided in the search budget).
  case linearizability
  /// After healing, the cluster did not elect, answer every request and converge in time.
  case liveness
}
