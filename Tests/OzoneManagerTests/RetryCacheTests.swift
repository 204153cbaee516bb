import Foundation
import OMProto
@testable import OzoneManager
import Synchronization
import O3TestSupport
import Testing

/// The retry cache answers a repeat with the first answer, forgets answers after their expiry,
/// and stays within its bound by forgetting the oldest answers first (time is injected).
@Suite(.watchdog) struct RetryCacheTests {
  private static let start = Date(timeIntervalSince1970: 1_000_000)

  private func answer(_ number: UInt64) -> OMResponse {
    var response = OMResponse()
    response.status = .ok
    response.message = "answer-\(number)"
    return response
  }

  private func serialized(_ response: OMResponse) -> [UInt8] { try! response.serializedBytes() }

  private func key(_ callID: UInt64) -> RetryCache.Key { RetryCache.Key(clientID: "client", callID: callID) }

  /// Admits `callID` at `now`; returns the trace id of a cached answer, or nil when it must be proposed.
  private func retry(_ cache: RetryCache, _ callID: UInt64, at now: Date) -> String? {
    let seen = Mutex<String?>(nil)
    let admission = cache.admit(key(callID), now: now) { response in seen.withLock { $0 = response.message } }
    if admission == .propose {
      cache.finishProposal(key(callID), failedWith: answer(0))
      return nil
    }
    return seen.withLock { $0 }
  }

  @Test func aRepeatGetsTheFirstAnswerUntilItExpires() {
    let cache = RetryCache(expirySeconds: 300, entriesMax: 100)
    cache.recordApplied(key(1), answer: serialized(answer(1)), now: Self.start)
    #expect(retry(cache, 1, at: Self.start.addingTimeInterval(299)) == "answer-1")
    #expect(retry(cache, 1, at: Self.start.addingTimeInterval(301)) == nil)
  }

  @Test func aCachedAnswerComesBackWhole() {
    var info = KeyInfo()
    info.volumeName = "vol1"
    info.bucketName = "bucket1"
    info.keyName = "a/b"
    info.objectID = 42
    var tag = KeyValue()
    tag.key = "k"
    tag.value = "v"
    info.metadata = [tag]
    var response = answer(1)
    response.cmdType = .createKey
    response.createKeyResponse = CreateKeyResponse.with {
      $0.keyInfo = info
      $0.clientID = 7
    }
    let cache = RetryCache(expirySeconds: 300, entriesMax: 100)
    cache.recordApplied(key(1), answer: serialized(response), now: Self.start)
    let seen = Mutex<OMResponse?>(nil)
    let admission = cache.admit(key(1), now: Self.start) { answer in seen.withLock { $0 = answer } }
    #expect(admission == .answered)
    #expect(seen.withLock { $0 } == response, "the retry gets every field of the first answer, the key session included")
  }

  @Test func answersOfMoreClientsThanTheSharedIDsHoldAreAllKept() {
    let cache = RetryCache(expirySeconds: 300, entriesMax: 100_000)
    let clients = RetryCache.clientIDsMax * 2 + 1
    for client in 0..<clients {
      for callID in 1...2 as ClosedRange<UInt64> {
        let key = RetryCache.Key(clientID: "client-\(client)", callID: callID)
        cache.recordApplied(key, answer: serialized(answer(UInt64(client) * 10 + callID)), now: Self.start)
      }
    }
    #expect(cache.count == clients * 2)
    for client in [0, RetryCache.clientIDsMax, clients - 1] {
      let seen = Mutex<String?>(nil)
      let key = RetryCache.Key(clientID: "client-\(client)", callID: 2)
      #expect(cache.admit(key, now: Self.start) { response in seen.withLock { $0 = response.message } } == .answered)
      #expect(seen.withLock { $0 } == "answer-\(client * 10 + 2)", "client \(client) gets its own answer")
    }
  }

  @Test func expiredAnswersLeaveTheCacheAsNewOnesArrive() {
    let cache = RetryCache(expirySeconds: 10, entriesMax: 1_000_000)
    for callID in 1...5_000 as ClosedRange<UInt64> {
      cache.recordApplied(key(callID), answer: serialized(answer(callID)), now: Self.start.addingTimeInterval(Double(callID) / 100))
    }
    // At 50 s, answers recorded before 40 s have expired: 1000 answers remain.
    #expect(cache.count == 1_000)
    #expect(retry(cache, 5_000, at: Self.start.addingTimeInterval(50)) == "answer-5000")
  }

  @Test func aSweepFreesExpiredAnswersWithoutNewWrites() {
    let cache = RetryCache(expirySeconds: 10, entriesMax: 1_000)
    for callID in 1...100 as ClosedRange<UInt64> {
      cache.recordApplied(key(callID), answer: serialized(answer(callID)), now: Self.start.addingTimeInterval(Double(callID) / 10))
    }
    cache.expire(now: Self.start.addingTimeInterval(9))
    #expect(cache.count == 100, "nothing has expired yet")
    cache.expire(now: Self.start.addingTimeInterval(15))
    #expect(cache.count == 50, "answers recorded before 5 s have expired")
    cache.expire(now: Self.start.addingTimeInterval(21))
    #expect(cache.count == 0)
  }

  @Test func theBoundForgetsTheOldestAnswersFirst() {
    let cache = RetryCache(expirySeconds: 300, entriesMax: 1_000)
    for callID in 1...3_000 as ClosedRange<UInt64> {
      cache.recordApplied(key(callID), answer: serialized(answer(callID)), now: Self.start)
    }
    #expect(cache.count == 1_000)
    #expect(retry(cache, 2_001, at: Self.start) == "answer-2001")
    #expect(retry(cache, 2_000, at: Self.start) == nil)
  }

  @Test func anAnswerRecordedAgainIsKeptUntilItsNewTime() {
    let cache = RetryCache(expirySeconds: 10, entriesMax: 1_000)
    cache.recordApplied(key(1), answer: serialized(answer(1)), now: Self.start)
    cache.recordApplied(key(1), answer: serialized(answer(2)), now: Self.start.addingTimeInterval(8))
    cache.recordApplied(key(2), answer: serialized(answer(3)), now: Self.start.addingTimeInterval(12))
    #expect(retry(cache, 1, at: Self.start.addingTimeInterval(12)) == "answer-2")
  }

  @Test func aRetryWaitingForItsFirstAttemptGetsTheAppliedAnswer() {
    let cache = RetryCache(expirySeconds: 300, entriesMax: 100)
    #expect(cache.admit(key(1), now: Self.start) { _ in } == .propose)
    let seen = Mutex<String?>(nil)
    let admission = cache.admit(key(1), now: Self.start) { response in seen.withLock { $0 = response.message } }
    #expect(admission == .answered)
    #expect(seen.withLock { $0 } == nil, "the first attempt has no answer yet")
    cache.recordApplied(key(1), answer: serialized(answer(1)), now: Self.start)
    #expect(seen.withLock { $0 } == "answer-1")
  }
}
