import O3TestSupport
import Testing

@testable import OzoneClient

/// The failover rules alone: failures in, (node, wait) decisions out; no sockets, no clock.
@Suite(.watchdog) struct OMFailoverTests {
  private let nodeIDs = ["om1", "om2", "om3"]

  private func failover(maxAttempts: Int = 100, waitMilliseconds: Int64 = 100, stepsMax: Int = 10, start: Int = 0)
    -> OMFailover
  {
    OMFailover(
      policy: OMFailoverPolicy(
        maxAttempts: maxAttempts, waitBetweenRetriesMilliseconds: waitMilliseconds, sameNodeBackoffStepsMax: stepsMax),
      nodeIDs: nodeIDs, startingAt: start)
  }

  private static let down = OMTryFailure.unreachable(message: "connection refused")

  @Test func roundRobinWaitsOnlyAfterEveryNodeWasTried() {
    var state = failover(start: 1)
    let decisions = (0..<6).map { _ in state.decide(after: Self.down) }
    #expect(
      decisions == [
        .retry(nodeIndex: 2, waitMilliseconds: 0), .retry(nodeIndex: 0, waitMilliseconds: 0),
        .retry(nodeIndex: 1, waitMilliseconds: 100), .retry(nodeIndex: 2, waitMilliseconds: 0),
        .retry(nodeIndex: 0, waitMilliseconds: 0), .retry(nodeIndex: 1, waitMilliseconds: 100),
      ])
  }

  @Test func leaderNotReadyBacksOffLinearlyOnTheSameNodeUpToTheCap() {
    var state = failover(stepsMax: 3)
    let notReady = OMTryFailure.leaderNotReady(message: "")
    let waits = (0..<5).map { _ in state.decide(after: notReady) }
    #expect(waits == [100, 200, 300, 300, 300].map { .retry(nodeIndex: 0, waitMilliseconds: $0) })
    // Moving on resets the backoff, and the round restarted with the last LEADER_NOT_READY.
    #expect(state.decide(after: .notLeader(leaderNodeID: nil, message: "")) == .retry(nodeIndex: 1, waitMilliseconds: 0))
    #expect(state.decide(after: notReady) == .retry(nodeIndex: 1, waitMilliseconds: 100))
  }

  @Test func aHintIsFollowedDirectlyAndWaitsOnlyWhenItNamesANodeAlreadyTried() {
    var state = failover()
    #expect(state.decide(after: .notLeader(leaderNodeID: "om3", message: "")) == .retry(nodeIndex: 2, waitMilliseconds: 0))
    #expect(state.decide(after: .notLeader(leaderNodeID: "om1", message: "")) == .retry(nodeIndex: 0, waitMilliseconds: 100))
    #expect(state.records.map(\.tries) == [1, 0, 1])
  }

  @Test func aHintNamingAnUnknownNodeOrTheSenderMeansRoundRobin() {
    var state = failover()
    #expect(state.decide(after: .notLeader(leaderNodeID: "om9", message: "")) == .retry(nodeIndex: 1, waitMilliseconds: 0))
    #expect(state.decide(after: .notLeader(leaderNodeID: "om2", message: "")) == .retry(nodeIndex: 2, waitMilliseconds: 0))
  }

  @Test func timeoutsAndLostAnswersMoveToTheNextNode() {
    var state = failover()
    #expect(state.decide(after: .timedOut(message: "")) == .retry(nodeIndex: 1, waitMilliseconds: 0))
    #expect(state.decide(after: .noReply(message: "")) == .retry(nodeIndex: 2, waitMilliseconds: 0))
  }

  @Test func maxAttemptsCountsRetriesAfterTheFirstTry() {
    var state = failover(maxAttempts: 2)
    #expect(state.decide(after: Self.down) != .giveUp)
    #expect(state.decide(after: Self.down) != .giveUp)
    #expect(state.decide(after: Self.down) == .giveUp)
    #expect(state.tries == 3)
    #expect(state.records.map(\.lastAnswer) == Array(repeating: "unreachable: connection refused", count: 3))
    var none = failover(maxAttempts: 0)
    #expect(none.decide(after: Self.down) == .giveUp)
  }

  @Test func aSingleNodeWaitsBetweenEveryRetry() {
    var state = OMFailover(
      policy: OMFailoverPolicy(maxAttempts: 10, waitBetweenRetriesMilliseconds: 7), nodeIDs: ["om1"], startingAt: 0)
    #expect(state.decide(after: Self.down) == .retry(nodeIndex: 0, waitMilliseconds: 7))
    #expect(state.decide(after: .noReply(message: "")) == .retry(nodeIndex: 0, waitMilliseconds: 7))
  }

  @Test func aLongAnswerIsCutInTheRecord() {
    var state = failover()
    _ = state.decide(after: .notLeader(leaderNodeID: nil, message: String(repeating: "x", count: 10_000)))
    #expect(state.records[0].lastAnswer.count == OMFailover.answerCharactersMax)
  }
}
