/// The members of a Raft group: the voters that form quorums and the learners that only
/// receive the log.
///
/// Both arrays are sorted and disjoint; a peer is at most one of the two.
public struct Membership: Hashable, Sendable, CustomStringConvertible {
  public private(set) var voters: [PeerID]
  public private(set) var learners: [PeerID]

  public init(voters: [PeerID], learners: [PeerID] = []) {
    let sortedVoters = voters.sorted()
    let sortedLearners = learners.sorted()
    precondition(Set(sortedVoters).count == sortedVoters.count, "a voter is listed twice")
    precondition(Set(sortedLearners).count == sortedLearners.count, "a learner is listed twice")
    precondition(Set(sortedVoters).isDisjoint(with: sortedLearners), "a peer is voter and learner")
    self.voters = sortedVoters
    self.learners = sortedLearners
  }

  /// A group with no members: the state of a fresh peer before it learns its group.
  public static let empty = Membership(voters: [])

  /// Every member, voters and learners, in ascending order.
  public var members: [PeerID] { (voters + learners).sorted() }

  public func isVoter(_ peer: PeerID) -> Bool { voters.contains(peer) }
  public func isLearner(_ peer: PeerID) -> Bool { learners.contains(peer) }
  public func isMember(_ peer: PeerID) -> Bool { isVoter(peer) || isLearner(peer) }

  /// The membership after `change`, or an error naming why the change does not fit this one.
  public func applying(_ change: MembershipChange) throws(RaftError) -> Membership {
    let peer = change.peer
    switch change.kind {
    case .addLearner:
      guard !isMember(peer) else {
        throw RaftError(.invalidMembershipChange, "peer \(peer) is already a member")
      }
      return Membership(voters: voters, learners: learners + [peer])
    case .addVoter:
      guard !isMember(peer) else {
        throw RaftError(.invalidMembershipChange, "peer \(peer) is already a member")
      }
      return Membership(voters: voters + [peer], learners: learners)
    case .promoteLearner:
      guard isLearner(peer) else {
        throw RaftError(.invalidMembershipChange, "peer \(peer) is not a learner")
      }
      return Membership(voters: voters + [peer], learners: learners.filter { $0 != peer })
    case .removePeer:
      guard isMember(peer) else {
        throw RaftError(.invalidMembershipChange, "peer \(peer) is not a member")
      }
      guard voters != [peer] else {
        throw RaftError(.invalidMembershipChange, "peer \(peer) is the last voter")
      }
      return Membership(
        voters: voters.filter { $0 != peer }, learners: learners.filter { $0 != peer })
    }
  }

  public var description: String {
    let voterList = voters.map(\.description).joined(separator: ",")
    guard !learners.isEmpty else { return "voters=(\(voterList))" }
    return "voters=(\(voterList)) learners=(\(learners.map(\.description).joined(separator: ",")))"
  }
}

/// The membership in force from a log index on, as recorded by a membership-change entry or by
/// the compaction point of the log.
public struct MembershipRecord: Hashable, Sendable {
  public var index: UInt64
  public var membership: Membership

  public init(index: UInt64, membership: Membership) {
    self.index = index
    self.membership = membership
  }
}
