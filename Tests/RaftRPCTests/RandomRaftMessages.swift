import RaftCore

/// Seeded random Raft messages of every kind, including boundary values (0, UInt64.max, empty and
/// large byte strings), for property-style tests: a seed replays a failure exactly.
struct RandomRaftMessages {
  /// How many body kinds `RaftMessage.Body` has; `message(kind:)` makes each of them.
  static let kindCount = 14

  private var random: SplitMix64Random

  init(seed: UInt64) {
    random = SplitMix64Random(seed: seed)
  }

  mutating func message() -> RaftMessage {
    message(kind: random.next(upperBound: Self.kindCount))
  }

  /// A message whose body is kind number `kind` (0..<kindCount, in the order Body lists them).
  mutating func message(kind: Int) -> RaftMessage {
    RaftMessage(from: peer(), to: peer(), term: number(), body: body(kind: kind))
  }

  private mutating func body(kind: Int) -> RaftMessage.Body {
    switch kind {
    case 0: .preVote(lastLog: termIndex())
    case 1: .preVoteResponse(granted: flag())
    case 2: .vote(lastLog: termIndex(), leadershipTransfer: flag())
    case 3: .voteResponse(granted: flag())
    case 4: .append(append(entryCount: random.next(upperBound: 6), dataBytesMax: 300))
    case 5: .appendResponse(AppendResponse(index: number(), rejected: flag(), hint: termIndex()))
    case 6: .heartbeat(commit: number(), readRound: number())
    case 7: .heartbeatResponse(readRound: number())
    case 8: .snapshotNotice(snapshotNotice())
    case 9: .snapshotStatus(snapshotStatus())
    case 10: .timeoutNow
    case 11: .readIndex(context: bytes(upTo: 64))
    case 12: .readIndexResponse(context: bytes(upTo: 64), index: number())
    case 13: .transferLeader(target: peer())
    default: preconditionFailure("no message kind \(kind)")
    }
  }

  /// An AppendEntries with consecutive entries after a random position.
  mutating func append(entryCount: Int, dataBytesMax: Int) -> AppendRequest {
    let previous = TermIndex(
      term: number(below: 1 << 40), index: number(below: UInt64.max - UInt64(entryCount) - 1))
    var term = max(previous.term, 1)
    var entries: [LogEntry] = []
    for offset in 0..<entryCount {
      if random.next(upperBound: 4) == 0 { term += UInt64(random.next(upperBound: 3)) }
      let kind: EntryKind = random.next(upperBound: 5) == 0 ? .membershipChange : .normal
      entries.append(
        LogEntry(
          term: term, index: previous.index + 1 + UInt64(offset), kind: kind,
          data: bytes(upTo: dataBytesMax)))
    }
    return AppendRequest(previous: previous, entries: entries, commit: number())
  }

  private mutating func snapshotNotice() -> SnapshotNoticeRequest {
    let leaderSnapshot = TermIndex(term: number(below: 1 << 40), index: number(below: 1 << 50))
    var index = leaderSnapshot.index
    var history: [MembershipRecord] = []
    for _ in 0...random.next(upperBound: 4) {
      history.append(MembershipRecord(index: index, membership: membership()))
      index += 1 + UInt64(random.next(upperBound: 1000))
    }
    return SnapshotNoticeRequest(leaderSnapshot: leaderSnapshot, membershipHistory: history)
  }

  private mutating func membership() -> Membership {
    var peers = Set<UInt64>()
    for _ in 0..<random.next(upperBound: 8) {
      peers.insert(peer().rawValue)
    }
    var voters: [PeerID] = []
    var learners: [PeerID] = []
    for raw in peers.sorted() {
      if flag() { voters.append(PeerID(raw)) } else { learners.append(PeerID(raw)) }
    }
    return Membership(voters: voters, learners: learners)
  }

  private mutating func snapshotStatus() -> SnapshotInstallStatus {
    switch random.next(upperBound: 3) {
    case 0: .installed(termIndex())
    case 1: .inProgress
    default: .failed
    }
  }

  private mutating func termIndex() -> TermIndex {
    TermIndex(term: number(), index: number())
  }

  private mutating func peer() -> PeerID {
    PeerID(max(1, number()))
  }

  private mutating func flag() -> Bool {
    random.next(upperBound: 2) == 1
  }

  /// Boundary values half the time, otherwise a value of random bit length (so every varint
  /// length occurs).
  private mutating func number(below bound: UInt64 = UInt64.max) -> UInt64 {
    switch random.next(upperBound: 8) {
    case 0: return 0
    case 1: return 1
    case 2: return bound == UInt64.max ? UInt64.max : bound - 1
    default:
      let bits = random.next(upperBound: 64)
      return (random.nextBits() >> UInt64(bits)) % bound
    }
  }

  mutating func bytes(upTo count: Int) -> [UInt8] {
    let length = random.next(upperBound: count + 1)
    return (0..<length).map { _ in UInt8(truncatingIfNeeded: random.nextBits()) }
  }
}
