import NIOCore
import O3TestSupport
import Raft
import RaftCore
import Testing

@testable import RaftRPC

/// The sender's rules without sockets or clocks: connecting, pipelining bounds, drops, backoff,
/// failure episodes and stale events.
@Suite(.watchdog) struct PeerSendStateTests {
  private func limits(outstanding: Int = 3, queuedBytes: Int = 4096) -> RaftRPCLimits {
    var limits = RaftRPCLimits()
    limits.batchBytesMax = 1024
    limits.outstandingCallsPerPeerMax = outstanding
    limits.queuedBytesPerPeerMax = queuedBytes
    limits.reconnectDelayMin = .milliseconds(50)
    limits.reconnectDelayMax = .seconds(2)
    return limits
  }

  private func batch(bytes: Int = 100, messages: Int = 1) -> OutboundBatch {
    OutboundBatch(
      payload: ByteBuffer(repeating: 0, count: bytes), messageCount: messages)
  }

  @Test func backoffDoublesFromTheMinimumUpToTheMaximum() {
    let limits = limits()
    let delays = (1...9).map { limits.reconnectDelay(afterFailures: $0) }
    let expected: [TimeAmount] = [50, 100, 200, 400, 800, 1600, 2000, 2000, 2000].map {
      .milliseconds($0)
    }
    #expect(delays == expected)
  }

  @Test func firstBatchConnectsAndCallsWaitForTheConnection() {
    var state = PeerSendState(limits: limits())
    #expect(state.enqueue(batch()) == .queuedAndConnect(epoch: 1))
    #expect(state.enqueue(batch()) == .queued)
    #expect(state.connection == .connecting)
    #expect(state.nextCall() == nil)
    #expect(state.connectSucceeded(epoch: 1) == true)
    #expect(state.nextCall()?.messageCount == 2)
    #expect(state.nextCall() == nil)
    #expect(state.queuedBytes == 0)
  }

  @Test func callsInFlightAreBoundedAndAFinishedCallFreesASlot() {
    var state = PeerSendState(limits: limits(outstanding: 3))
    _ = state.enqueue(batch(bytes: 600))
    #expect(state.connectSucceeded(epoch: 1) == true)
    for _ in 0..<5 {
      #expect(state.enqueue(batch(bytes: 600)) == .queued)
    }
    var started = 0
    while state.nextCall() != nil { started += 1 }
    #expect(started == 3)
    #expect(state.outstandingCalls == 3)
    #expect(state.queue.count == 3)
    #expect(state.callFinished(epoch: 1, acknowledged: true) == false)
    #expect(state.nextCall() != nil)
    #expect(state.nextCall() == nil)
  }

  @Test func batchesQueuedBehindAFullPipelineLeaveMergedUpToTheBatchLimit() {
    var state = PeerSendState(limits: limits(outstanding: 1))
    _ = state.enqueue(batch(bytes: 100, messages: 1))
    #expect(state.connectSucceeded(epoch: 1) == true)
    #expect(state.nextCall()?.messageCount == 1)
    for messages in 1...4 {
      _ = state.enqueue(batch(bytes: 300, messages: messages))
    }
    #expect(state.nextCall() == nil)
    _ = state.callFinished(epoch: 1, acknowledged: true)
    let merged = state.nextCall()
    #expect(merged?.bytes == 900)
    #expect(merged?.messageCount == 1 + 2 + 3)
    #expect(state.queue.count == 1)
    #expect(state.queuedBytes == 300)
  }

  @Test func mergedBatchesDecodeToEveryMessageInOrder() throws {
    var state = PeerSendState(limits: limits(outstanding: 1, queuedBytes: 1 << 20))
    let encoder = RaftBatchEncoder(batchBytesMax: 1024)
    let messages = (1...40).map { numberedHeartbeat(from: 1, to: 2, UInt64($0)) }
    for message in messages {
      for batch in encoder.encode([message]).batches {
        _ = state.enqueue(batch)
      }
    }
    #expect(state.connectSucceeded(epoch: 1) == true)
    let next = state.nextCall()
    let merged = try #require(next)
    #expect(merged.messageCount == 40)
    #expect(try RaftMessageCodec.decodeBatch(merged.payload) == messages)
  }

  /// Groups share a peer's queue: batches of two groups that leave merged into one call still
  /// name each message's group, in the order each group sent them.
  @Test func mergedBatchesOfTwoGroupsDecodeBackToBothGroupsInOrder() throws {
    var state = PeerSendState(limits: limits(outstanding: 1, queuedBytes: 1 << 20))
    let encoder = RaftBatchEncoder(batchBytesMax: 1024)
    let groupA = RaftGroupID(high: 0xA, low: 1)
    let groupB = RaftGroupID(high: 0xB, low: 2)
    var sent: [RaftGroupID: [RaftMessage]] = [:]
    // 24 labelled heartbeats of 33 bytes each fit the 1024-byte batch limit, so all leave in one call.
    for number in 1...24 {
      let group = number % 3 == 0 ? groupB : groupA
      let message = numberedHeartbeat(from: 1, to: 2, UInt64(number))
      sent[group, default: []].append(message)
      for batch in encoder.encode([message], group: group).batches {
        _ = state.enqueue(batch)
      }
    }
    #expect(state.connectSucceeded(epoch: 1) == true)
    let next = state.nextCall()
    let merged = try #require(next)
    #expect(merged.messageCount == 24)
    let runs = try RaftMessageCodec.decodeGroupedBatch(merged.payload)
    #expect(runs.map(\.group) == [groupA, groupB])
    for run in runs {
      #expect(run.messages == sent[run.group], "group \(run.group)")
    }
  }

  @Test func queueBeyondItsByteBoundDropsTheNewBatch() {
    var state = PeerSendState(limits: limits(queuedBytes: 1000))
    #expect(state.enqueue(batch(bytes: 600)) == .queuedAndConnect(epoch: 1))
    #expect(state.enqueue(batch(bytes: 600)) == .dropped(.queueFull))
    #expect(state.enqueue(batch(bytes: 400)) == .queued)
    #expect(state.queuedBytes == 1000)
  }

  @Test func failedConnectDropsTheQueueAndDropsNewBatchesUntilTheRetry() throws {
    var state = PeerSendState(limits: limits())
    _ = state.enqueue(batch(messages: 2))
    _ = state.enqueue(batch(messages: 3))
    let firstFailure = state.connectFailed(epoch: 1)
    let failure = try #require(firstFailure)
    #expect(failure.dropped.map(\.messageCount) == [2, 3])
    #expect(failure.retryDelay == .milliseconds(50))
    #expect(state.connection == .waitingToReconnect)
    #expect(state.enqueue(batch()) == .dropped(.peerUnreachable))

    #expect(state.retryDue() == 2)
    let secondFailure = state.connectFailed(epoch: 2)
    let second = try #require(secondFailure)
    #expect(second.dropped.isEmpty)
    #expect(second.retryDelay == .milliseconds(100))
    #expect(state.retryDue() == 3)
    #expect(state.enqueue(batch()) == .queued)
    #expect(state.connectSucceeded(epoch: 3) == true)
    #expect(state.failedAttempts == 0)
    #expect(state.nextCall() != nil)
  }

  @Test func unreachableIsReportedOncePerFailureEpisode() {
    var state = PeerSendState(limits: limits())
    _ = state.enqueue(batch())
    #expect(state.messagesDropped() == true)
    #expect(state.messagesDropped() == false)
    #expect(state.connectSucceeded(epoch: 1) == true)
    _ = state.nextCall()
    #expect(state.messagesDropped() == false)
    #expect(state.callFinished(epoch: 1, acknowledged: true) == true)
    #expect(state.messagesDropped() == true)
  }

  @Test func eventsOfAnEarlierConnectionChangeNothing() throws {
    var state = PeerSendState(limits: limits())
    _ = state.enqueue(batch())
    #expect(state.connectSucceeded(epoch: 1) == true)
    _ = state.nextCall()
    _ = state.enqueue(batch())
    #expect(state.connectionLost(epoch: 1) == 2)
    #expect(state.connection == .connecting)
    #expect(state.queue.count == 1)
    #expect(state.connectionLost(epoch: 1) == nil)
    #expect(state.connectSucceeded(epoch: 1) == false)
    #expect(state.connectFailed(epoch: 1) == nil)
    #expect(state.connectSucceeded(epoch: 2) == true)
    #expect(state.outstandingCalls == 0)
    _ = state.callFinished(epoch: 1, acknowledged: false)
    #expect(state.outstandingCalls == 0)
  }

  @Test func addressChangeReconnectsOnlyAConnectionInUse() {
    var state = PeerSendState(limits: limits())
    #expect(state.addressChanged() == nil)
    _ = state.enqueue(batch())
    #expect(state.connectFailed(epoch: 1) != nil)
    #expect(state.addressChanged() == 2)
    #expect(state.failedAttempts == 0)
    #expect(state.connection == .connecting)
  }

  @Test func closeDropsTheQueueAndEverythingAfter() {
    var state = PeerSendState(limits: limits())
    _ = state.enqueue(batch(messages: 4))
    #expect(state.close().map(\.messageCount) == [4])
    #expect(state.enqueue(batch()) == .dropped(.peerRemoved))
    #expect(state.retryDue() == nil)
    #expect(state.addressChanged() == nil)
    #expect(state.connectSucceeded(epoch: 1) == false)
  }
}
