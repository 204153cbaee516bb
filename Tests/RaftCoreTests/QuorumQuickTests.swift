import O3TestSupport
import Testing

@testable import RaftCore

/// The quorum arithmetic checked against a dumb reference over many random cases (etcd-raft's
/// quorum/quick_test.go idea).
@Suite(.watchdog, .ownThreads) struct QuorumQuickTests {
  /// The reference: the largest value v such that a majority of voters has reached at least v,
  /// found by trying every candidate value.
  private func dumbCommittedValue(_ values: [UInt64]) -> UInt64 {
    guard !values.isEmpty else { return 0 }
    let majority = values.count / 2 + 1
    return ([0] + values).filter { candidate in values.filter { $0 >= candidate }.count >= majority }.max()!
  }

  private func dumbVoteResult(voters: Int, granted: Int, refused: Int) -> MajorityQuorum.VoteResult {
    let majority = voters / 2 + 1
    if granted >= majority { return .won }
    if granted + (voters - granted - refused) < majority { return .lost }
    return .pending
  }

  @Test func committedValueAgreesWithTheReference() {
    var random = SplitMix64Random(seed: 2024)
    for _ in 0..<5000 {
      let count = random.next(upperBound: 8)
      let voters = (0..<count).map { PeerID(UInt64($0 + 1)) }
      let spread = [3, 10, 1000][random.next(upperBound: 3)]
      let values = Dictionary(uniqueKeysWithValues: voters.map { ($0, UInt64(random.next(upperBound: spread))) })
      let fast = MajorityQuorum.committedValue(voters: voters) { values[$0]! }
      #expect(fast == dumbCommittedValue(voters.map { values[$0]! }), "values \(values)")
    }
  }

  @Test func voteResultAgreesWithTheReference() {
    var random = SplitMix64Random(seed: 7)
    for _ in 0..<5000 {
      let count = random.next(upperBound: 8) + 1
      let voters = (1...count).map { PeerID(UInt64($0)) }
      var votes: [PeerID: Bool] = [:]
      for voter in voters where random.next(upperBound: 3) != 0 { votes[voter] = random.next(upperBound: 2) == 0 }
      // A vote from outside the voters never counts.
      votes[PeerID(100)] = true
      let granted = votes.filter { $0.value && $0.key.rawValue <= UInt64(count) }.count
      let refused = votes.filter { !$0.value }.count
      #expect(MajorityQuorum.voteResult(voters: voters, votes: votes) == dumbVoteResult(voters: count, granted: granted, refused: refused))
    }
  }
}
