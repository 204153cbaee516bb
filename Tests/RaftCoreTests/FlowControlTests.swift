import O3TestSupport
import Testing

@testable import RaftCore

/// Per-follower flow control (etcd-raft's probe / replicate / snapshot states), message and
/// inflight bounds, and the bound on uncommitted bytes.
@Suite(.watchdog, .ownThreads) struct FlowControlTests {
  private func appends(_ messages: [RaftMessage], to peer: PeerID) -> [AppendRequest] {
    messages.compactMap { message in
      if case .append(let request) = message.body, message.to == peer { return request } else { return nil }
    }
  }

  /// A leader knows nothing of a new follower's log: it probes with one message at a time.
  @Test func probeSendsOneMessageUntilAnswered() throws {
    var leader = Fixture.leader()
    #expect(appends(leader.takeMessages(), to: 2).count == 1)
    _ = try leader.propose([1])
    _ = try leader.propose([2])
    #expect(appends(leader.takeMessages(), to: 2).isEmpty)
    #expect(leader.status.progress.first { $0.peer == 2 }?.state == .probe)
    leader.step(Fixture.message(from: 2, to: 1, term: 1, .appendResponse(AppendResponse(index: 1))))
    #expect(leader.status.progress.first { $0.peer == 2 }?.state == .replicate)
    #expect(appends(leader.takeMessages(), to: 2).flatMap(\.entries).map(\.index) == [2, 3])
  }

  /// In replicate, messages stream until the inflight window is full (by count).
  @Test func replicateStopsAtTheInflightCount() throws {
    var leader = Fixture.leader { $0.inflightMessagesMax = 2; $0.messageBytesMax = 1 }
    leader.persistReady()
    leader.step(Fixture.message(from: 2, to: 1, term: 1, .appendResponse(AppendResponse(index: 1))))
    leader.persistReady()
    for value in 0..<5 as Range<UInt8> { _ = try leader.propose([value]) }
    let sent = appends(leader.takeMessages(), to: 2)
    #expect(sent.map { $0.entries.map(\.index) } == [[2], [3]])
    leader.step(Fixture.message(from: 2, to: 1, term: 1, .appendResponse(AppendResponse(index: 2))))
    #expect(appends(leader.takeMessages(), to: 2).map { $0.entries.map(\.index) } == [[4]])
  }

  /// A full window whose messages were all lost must not stall the follower: a heartbeat
  /// answer lets one more message out, the follower rejects it (it lacks the lost entries)
  /// and the leader falls back to probing from the match.
  @Test func heartbeatAnswerReopensAFullWindowOfLostMessages() throws {
    var leader = Fixture.leader { $0.inflightMessagesMax = 2; $0.messageBytesMax = 1 }
    leader.persistReady()
    leader.step(Fixture.message(from: 2, to: 1, term: 1, .appendResponse(AppendResponse(index: 1))))
    leader.persistReady()
    for value in 0..<5 as Range<UInt8> { _ = try leader.propose([value]) }
    #expect(appends(leader.takeMessages(), to: 2).map { $0.entries.map(\.index) } == [[2], [3]])
    leader.step(Fixture.message(from: 2, to: 1, term: 1, .heartbeatResponse(readRound: 0)))
    let next = appends(leader.takeMessages(), to: 2)
    #expect(next.map { $0.entries.map(\.index) } == [[4]])
    leader.step(
      Fixture.message(
        from: 2, to: 1, term: 1, .appendResponse(AppendResponse(index: 3, rejected: true, hint: TermIndex(term: 1, index: 1)))))
    #expect(leader.status.progress.first { $0.peer == 2 }?.state == .probe)
    #expect(appends(leader.takeMessages(), to: 2).first?.previous == TermIndex(term: 1, index: 1))
  }

  /// ... and by bytes; each message carries at most `messageBytesMax` of payload (a larger
  /// single entry still travels alone).
  @Test func replicateStopsAtTheInflightBytes() throws {
    var leader = Fixture.leader { $0.inflightBytesMax = 8; $0.messageBytesMax = 4 }
    leader.persistReady()
    leader.step(Fixture.message(from: 2, to: 1, term: 1, .appendResponse(AppendResponse(index: 1))))
    leader.persistReady()
    _ = try leader.propose([1, 1, 1])
    _ = try leader.propose([2, 2, 2])
    _ = try leader.propose([3, 3, 3, 3, 3, 3, 3, 3, 3])
    _ = try leader.propose([4])
    let sent = appends(leader.takeMessages(), to: 2)
    #expect(sent.map { $0.entries.map(\.index) } == [[2], [3], [4]])
  }

  /// A rejection in replicate (a lost message) falls back to probing from the match.
  @Test func rejectionInReplicateFallsBackToProbe() throws {
    var leader = Fixture.leader()
    leader.persistReady()
    leader.step(Fixture.message(from: 2, to: 1, term: 1, .appendResponse(AppendResponse(index: 1))))
    _ = try leader.propose([1])
    _ = try leader.propose([2])
    leader.persistReady()
    leader.step(Fixture.message(from: 2, to: 1, term: 1, .appendResponse(AppendResponse(index: 2, rejected: true, hint: TermIndex(term: 1, index: 1)))))
    #expect(leader.status.progress.first { $0.peer == 2 }?.state == .probe)
    #expect(appends(leader.takeMessages(), to: 2).first?.previous == TermIndex(term: 1, index: 1))
  }

  /// A stale rejection (for a message sent before the match was known) changes nothing.
  @Test func staleRejectionIsIgnored() {
    var leader = Fixture.leader()
    leader.persistReady()
    leader.step(Fixture.message(from: 2, to: 1, term: 1, .appendResponse(AppendResponse(index: 1))))
    leader.persistReady()
    leader.step(Fixture.message(from: 2, to: 1, term: 1, .appendResponse(AppendResponse(index: 0, rejected: true))))
    let progress = leader.status.progress.first { $0.peer == 2 }!
    #expect(progress.state == .replicate && progress.match == 1)
  }

  @Test func unreachableFollowerIsProbedAgain() {
    var leader = Fixture.leader()
    leader.persistReady()
    leader.step(Fixture.message(from: 2, to: 1, term: 1, .appendResponse(AppendResponse(index: 1))))
    leader.reportUnreachable(2)
    #expect(leader.status.progress.first { $0.peer == 2 }?.state == .probe)
  }

  /// The uncommitted tail is bounded: proposals beyond `uncommittedBytesMax` are refused until
  /// some commit; a single large proposal is accepted into an empty tail.
  @Test func uncommittedBytesAreBounded() throws {
    var leader = Fixture.leader { $0.uncommittedBytesMax = 10; $0.messageBytesMax = 10 }
    leader.commitNoop()
    _ = try leader.propose(Array(repeating: 1, count: 30))
    _ = try? leader.propose([2])
    do {
      _ = try leader.propose([2])
      Issue.record("proposal accepted beyond the uncommitted bound")
    } catch {
      #expect(error.code == .uncommittedBytesExceeded)
    }
    leader.persistReady()
    leader.step(Fixture.message(from: 2, to: 1, term: 1, .appendResponse(AppendResponse(index: 2))))
    let accepted = try leader.propose(Array(repeating: 3, count: 10))
    #expect(accepted.index == 3)
  }

  /// A follower's proposal is refused with a hint naming the leader.
  @Test func proposalsOnAFollowerAreRefusedWithALeaderHint() {
    var follower = Fixture.node(2)
    follower.step(Fixture.message(from: 1, to: 2, term: 1, .heartbeat(commit: 0, readRound: 0)))
    do {
      _ = try follower.propose([1])
      Issue.record("a follower accepted a proposal")
    } catch {
      #expect(error.code == .notLeader)
      #expect(error.leaderHint == 1)
    }
  }
}
