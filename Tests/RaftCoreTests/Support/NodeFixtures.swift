@testable import RaftCore

typealias TestNode = RaftNode<MemoryRaftStorage>

/// Builders for unit tests that drive one core directly, in the manner of etcd-raft's
/// raft_paper_test.go: craft a log, step messages, read the Ready.
enum Fixture {
  /// Storage holding entries of the given terms at indexes 1, 2, ..., with `voters` as the
  /// membership at the (empty) compaction point.
  static func storage(
    voters: [PeerID] = [1, 2, 3], learners: [PeerID] = [], terms: [UInt64] = [],
    hardState: HardState = HardState()
  ) -> MemoryRaftStorage {
    let entries = terms.enumerated().map { offset, term in
      LogEntry(term: term, index: UInt64(offset + 1), data: [UInt8(truncatingIfNeeded: offset)])
    }
    var state = hardState
    state.term = max(state.term, terms.last ?? 0)
    return MemoryRaftStorage(
      hardState: state,
      snapshot: SnapshotMetadata(last: .zero, membership: Membership(voters: voters, learners: learners)),
      entries: entries)
  }

  static func node(
    _ id: PeerID = 1, storage: MemoryRaftStorage = storage(), seed: UInt64 = 7,
    configure: (inout RaftConfiguration) -> Void = { _ in }
  ) -> TestNode {
    var configuration = RaftConfiguration(id: id)
    // Plain Raft by default, as in the paper; tests of the extensions turn them on.
    configuration.preVote = false
    configuration.checkQuorum = false
    configure(&configuration)
    return try! RaftNode(configuration: configuration, storage: storage, random: SplitMix64Random(seed: seed))
  }

  /// A leader of `term` (elected by votes from 2 and 3) whose no-op is not yet durable.
  static func leader(
    _ id: PeerID = 1, voters: [PeerID] = [1, 2, 3], terms: [UInt64] = [],
    configure: (inout RaftConfiguration) -> Void = { _ in }
  ) -> TestNode {
    var node = node(id, storage: storage(voters: voters, terms: terms), configure: configure)
    node.campaign()
    for voter in voters where voter != id {
      node.step(message(from: voter, to: id, term: node.term, .voteResponse(granted: true)))
    }
    precondition(node.role == .leader, "fixture leader was not elected")
    return node
  }

  static func message(from: PeerID, to: PeerID, term: UInt64, _ body: RaftMessage.Body) -> RaftMessage {
    RaftMessage(from: from, to: to, term: term, body: body)
  }

  static func entries(_ terms: [(term: UInt64, index: UInt64)]) -> [LogEntry] {
    terms.map { LogEntry(term: $0.term, index: $0.index) }
  }
}

extension RaftNode where Storage == MemoryRaftStorage {
  /// Handles one Ready like a correct driver (persist, then hand back) and returns it.
  @discardableResult
  mutating func persistReady() -> Ready {
    let ready = ready()
    log.storage.save(ready)
    advance()
    return ready
  }

  /// The messages of the next Ready, after persisting it.
  mutating func takeMessages() -> [RaftMessage] {
    persistReady().messages
  }

  /// Commits the leader's no-op by acknowledgements from every other voter, and drains.
  mutating func commitNoop() {
    persistReady()
    for peer in membership.voters where peer != id {
      step(Fixture.message(from: peer, to: id, term: term, .appendResponse(AppendResponse(index: status.lastIndex))))
    }
    persistReady()
  }

  var committed: UInt64 { status.hardState.commit }
  var lastIndex: UInt64 { status.lastIndex }
  var storage: MemoryRaftStorage { log.storage }
}
