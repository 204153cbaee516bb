import O3TestSupport
import Testing

@testable import RaftCore

/// Notification-mode snapshots: a follower that needs compacted entries is told the leader's
/// compaction point and reports the checkpoint its state machine installed.
@Suite(.watchdog, .ownThreads) struct SnapshotNoticeTests {
  /// A leader of term 2 over a log compacted through index 4, with a membership change at 3.
  private func compactedLeader() -> TestNode {
    let change = MembershipChange(.addLearner, peer: 4)
    let entries = [
      LogEntry(term: 1, index: 1), LogEntry(term: 1, index: 2),
      LogEntry(term: 1, index: 3, kind: .membershipChange, data: change.encoded()),
      LogEntry(term: 1, index: 4), LogEntry(term: 1, index: 5),
    ]
    let storage = MemoryRaftStorage(
      hardState: HardState(term: 1, commit: 5),
      snapshot: SnapshotMetadata(last: .zero, membership: Membership(voters: [1, 2, 3])),
      entries: entries)
    storage.compact(through: 4)
    var leader = Fixture.node(storage: storage) { $0.appliedIndex = 5 }
    leader.campaign()
    leader.step(Fixture.message(from: 3, to: 1, term: 2, .voteResponse(granted: true)))
    leader.persistReady()
    return leader
  }

  private func notice(_ messages: [RaftMessage], to peer: PeerID) -> SnapshotNoticeRequest? {
    messages.lazy.compactMap { message in
      if case .snapshotNotice(let request) = message.body, message.to == peer { return request } else { return nil }
    }.first
  }

  @Test func leaderSendsANoticeWhenTheNeededEntriesAreCompacted() {
    var leader = compactedLeader()
    leader.step(Fixture.message(from: 2, to: 1, term: 2, .appendResponse(AppendResponse(index: 5, rejected: true, hint: TermIndex(term: 1, index: 2)))))
    let request = notice(leader.takeMessages(), to: 2)
    #expect(request?.leaderSnapshot == TermIndex(term: 1, index: 4))
    #expect(request?.membershipHistory == [
      MembershipRecord(index: 4, membership: Membership(voters: [1, 2, 3], learners: [4]))
    ])
    #expect(leader.status.progress.first { $0.peer == 2 }?.state == .snapshot)
    leader.step(Fixture.message(from: 2, to: 1, term: 2, .heartbeatResponse(readRound: 0)))
    #expect(leader.takeMessages().isEmpty)
  }

  /// The follower surfaces the notice once, answers repeats with "in progress", installs, and
  /// persists the new compaction point with the membership in force there.
  @Test func followerInstallsAndRestartsItsLogAfterTheCheckpoint() {
    var follower = Fixture.node(2, storage: Fixture.storage(terms: [1, 1]))
    let history = [
      MembershipRecord(index: 4, membership: Membership(voters: [1, 2, 3])),
      MembershipRecord(index: 6, membership: Membership(voters: [1, 2, 3], learners: [4])),
    ]
    let request = SnapshotNoticeRequest(leaderSnapshot: TermIndex(term: 1, index: 4), membershipHistory: history)
    follower.step(Fixture.message(from: 1, to: 2, term: 2, .snapshotNotice(request)))
    let first = follower.persistReady()
    #expect(first.snapshotNotice == SnapshotNotice(leader: 1, leaderSnapshot: TermIndex(term: 1, index: 4)))
    #expect(first.messages.map(\.body) == [.snapshotStatus(.inProgress)])
    follower.step(Fixture.message(from: 1, to: 2, term: 2, .snapshotNotice(request)))
    #expect(follower.persistReady().snapshotNotice == nil)
    follower.snapshotInstalled(TermIndex(term: 2, index: 7), membership: history[1].membership)
    let installed = follower.persistReady()
    #expect(installed.snapshot == SnapshotMetadata(last: TermIndex(term: 2, index: 7), membership: history[1].membership))
    #expect(installed.messages.map(\.body) == [.snapshotStatus(.installed(TermIndex(term: 2, index: 7)))])
    #expect(follower.status.firstIndex == 8)
    #expect(follower.status.appliedIndex == 7)
    #expect(follower.membership == history[1].membership)
    let restarted = Fixture.node(2, storage: follower.storage)
    #expect(restarted.status.hardState.commit == 7)
    #expect(restarted.membership == history[1].membership)
  }

  @Test func leaderProbesAfterTheInstalledIndex() {
    var leader = compactedLeader()
    leader.step(Fixture.message(from: 2, to: 1, term: 2, .appendResponse(AppendResponse(index: 5, rejected: true, hint: TermIndex(term: 1, index: 2)))))
    leader.persistReady()
    leader.step(Fixture.message(from: 2, to: 1, term: 2, .snapshotStatus(.installed(TermIndex(term: 1, index: 5)))))
    let progress = leader.status.progress.first { $0.peer == 2 }!
    #expect(progress.state == .probe && progress.match == 5 && progress.next == 6)
    let probe = leader.takeMessages().first { $0.to == 2 }
    guard case .append(let request) = probe?.body else {
      Issue.record("no probe after the install")
      return
    }
    #expect(request.previous == TermIndex(term: 1, index: 5))
  }

  /// A failed install sends the follower back to probing, which leads to a new notice.
  @Test func failedInstallLeadsToANewNotice() {
    var leader = compactedLeader()
    leader.step(Fixture.message(from: 2, to: 1, term: 2, .appendResponse(AppendResponse(index: 5, rejected: true, hint: TermIndex(term: 1, index: 2)))))
    leader.persistReady()
    leader.step(Fixture.message(from: 2, to: 1, term: 2, .snapshotStatus(.failed)))
    #expect(notice(leader.takeMessages(), to: 2) != nil)
  }

  /// The checkpoint brings its own membership: it may be newer than the notice's history (here
  /// 4 was removed at 8, after the notice was sent), which is not trusted. An acknowledgement
  /// still queued for the log the install replaced (of a late append) is withdrawn with it.
  @Test func installTakesTheCheckpointsMembershipAndWithdrawsStaleAcknowledgements() {
    var follower = Fixture.node(2, storage: Fixture.storage(terms: [1]))
    let history = [
      MembershipRecord(index: 4, membership: Membership(voters: [1, 2, 3])),
      MembershipRecord(index: 6, membership: Membership(voters: [1, 2, 3, 4])),
    ]
    let request = SnapshotNoticeRequest(leaderSnapshot: TermIndex(term: 2, index: 4), membershipHistory: history)
    follower.step(Fixture.message(from: 1, to: 2, term: 2, .snapshotNotice(request)))
    follower.persistReady()
    let late = AppendRequest(previous: TermIndex(term: 1, index: 1), entries: Fixture.entries([(1, 2)]), commit: 0)
    follower.step(Fixture.message(from: 1, to: 2, term: 2, .append(late)))
    let checkpoint = SnapshotMetadata(last: TermIndex(term: 2, index: 9), membership: Membership(voters: [1, 2, 3]))
    let accepted = follower.snapshotInstalled(checkpoint.last, membership: checkpoint.membership)
    #expect(accepted)
    #expect(follower.membership == checkpoint.membership)
    let installed = follower.persistReady()
    #expect(installed.snapshot == checkpoint)
    #expect(installed.messages.map(\.body) == [.snapshotStatus(.installed(checkpoint.last))])
  }

  /// An install the core did not ask for, or one older than the pending notice's compaction
  /// point, is refused and reported as failed.
  @Test func unexpectedOrTooOldInstallIsRefused() {
    var follower = Fixture.node(2, storage: Fixture.storage(terms: [1]))
    let unexpected = follower.snapshotInstalled(TermIndex(term: 1, index: 9), membership: Membership(voters: [1, 2, 3]))
    #expect(!unexpected)
    let request = SnapshotNoticeRequest(
      leaderSnapshot: TermIndex(term: 1, index: 6),
      membershipHistory: [MembershipRecord(index: 6, membership: Membership(voters: [1, 2, 3]))])
    follower.step(Fixture.message(from: 1, to: 2, term: 1, .snapshotNotice(request)))
    follower.persistReady()
    #expect(follower.pendingSnapshotNotice?.leaderSnapshot == TermIndex(term: 1, index: 6))
    let tooOld = follower.snapshotInstalled(TermIndex(term: 1, index: 5), membership: Membership(voters: [1, 2, 3]))
    #expect(!tooOld)
    #expect(follower.takeMessages().map(\.body) == [.snapshotStatus(.failed)])
    #expect(follower.pendingSnapshotNotice == nil)
    #expect(follower.status.lastIndex == 1)
  }

  /// A notice to a follower that already holds the leader's compaction point is answered at
  /// once with its commit index: no install needed.
  @Test func followerAlreadyPastTheCompactionPointAnswersAtOnce() {
    var follower = Fixture.node(2, storage: Fixture.storage(terms: [1, 1, 1], hardState: HardState(commit: 3)))
    let request = SnapshotNoticeRequest(
      leaderSnapshot: TermIndex(term: 1, index: 2),
      membershipHistory: [MembershipRecord(index: 2, membership: Membership(voters: [1, 2, 3]))])
    follower.step(Fixture.message(from: 1, to: 2, term: 1, .snapshotNotice(request)))
    let ready = follower.persistReady()
    #expect(ready.snapshotNotice == nil)
    #expect(ready.messages.map(\.body) == [.snapshotStatus(.installed(TermIndex(term: 1, index: 3)))])
  }
}
