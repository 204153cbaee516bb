import Foundation
import OMProto
@testable import OzoneManager
import Synchronization
import Testing

/// The retry cache answers a repeat with the first answer, forgets answers after their expiry,
/// and stays within its bound by forgetting the oldest answers first (time is injected).
@Suite struct RetryCacheTests {
  private static let start = Date(timeIntervalSince1970: 1_000_000)

  private func answer(_ number: UInt64) -> OMResponse {
    var response = OMResponse()
    response.status = .ok
    response.message = "answer-\(number)"
    return response
  }

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
    cache.recordApplied(key(1), answer(1), now: Self.start)
    #expect(retry(cache, 1, at: Self.start.addingTimeInterval(299)) == "answer-1")
    #expect(retry(cache, 1, at: Self.start.addingTimeInterval(301)) == nil)
  }

  @Test func expiredAnswersLeaveTheCacheAsNewOnesArrive() {
    let cache = RetryCache(expirySeconds: 10, entriesMax: 1_000_000)
    for callID in 1...5_000 as ClosedRange<UInt64> {
      cache.recordApplied(key(callID), answer(callID), now: Self.start.addingTimeInterval(Double(callID) / 100))
    }
    // At 50 s, answers recorded before 40 s have expired: 1000 answers remain.
    #expect(cache.count == 1_000)
    #expect(retry(cache, 5_000, at: Self.start.addingTimeInterval(50)) == "answer-5000")
  }

  @Test func theBoundForgetsTheOldestAnswersFirst() {
    let cache = RetryCache(expirySeconds: 300, entriesMax: 1_000)
    for callID in 1...3_000 as ClosedRange<UInt64> {
      cache.recordApplied(key(callID), answer(callID), now: Self.start)
    }
    #expect(cache.count == 1_000)
    #expect(retry(cache, 2_001, at: Self.start) == "answer-2001")
    #expect(retry(cache, 2_000, at: Self.start) == nil)
  }

  @Test func anAnswerRecordedAgainIsKeptUntilItsNewTime() {
    let cache = RetryCache(expirySeconds: 10, entriesMax: 1_000)
    cache.recordApplied(key(1), answer(1), now: Self.start)
    cache.recordApplied(key(1), answer(2), now: Self.start.addingTimeInterval(8))
    cache.recordApplied(key(2), answer(3), now: Self.start.addingTimeInterval(12))
    #expect(retry(cache, 1, at: Self.start.addingTimeInterval(12)) == "answer-2")
  }
}
