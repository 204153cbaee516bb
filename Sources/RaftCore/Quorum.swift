/// Majority arithmetic over a set of voters.
enum MajorityQuorum {
  /// The outcome of a vote.
  enum VoteResult: Equatable {
    case won
    case lost
    case pending
  }

  /// The highest value that a majority of `voters` has reached, where `value` gives each
  /// voter's value (its match index, or its acknowledged read round). Zero for no voters.
  static func committedValue(voters: [PeerID], value: (PeerID) -> UInt64) -> UInt64 {
    guard !voters.isEmpty else { return 0 }
    var values = voters.map(value)
    values.sort(by: >)
    // With n voters, n/2 + 1 of them have reached at least the value at this position.
    return values[voters.count / 2]
  }

  /// Whether `votes` (true for granted, false for refused) decide an election among `voters`.
  /// Votes from non-voters are ignored.
  static func voteResult(voters: [PeerID], votes: [PeerID: Bool]) -> VoteResult {
    guard !voters.isEmpty else { return .lost }
    let majority = voters.count / 2 + 1
    var granted = 0
    var refused = 0
    for voter in voters {
      switch votes[voter] {
      case true: granted += 1
      case false: refused += 1
      case nil: break
      }
    }
    if granted >= majority { return .won }
    if refused > voters.count - majority { return .lost }
    return .pending
  }
}
