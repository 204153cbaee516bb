import RaftCore
import O3TestSupport
import Testing

@testable import Raft

/// The tail cache keeps a contiguous suffix of the log within its bounds.
@Suite("TailCache", .watchdog)
struct TailCacheTests {
  @Test("evicts the oldest entries beyond the entry bound")
  func entryBound() {
    var cache = TailCache(entriesMax: 3, payloadBytesMax: 1000)
    for entry in logTestEntries(from: 1, count: 5) { cache.append(entry) }
    #expect(cache.firstIndex == 3)
    #expect(cache.count == 3)
    #expect(cache.entry(at: 2) == nil)
    #expect(cache.entry(at: 5) == logTestEntries(from: 5, count: 1)[0])
  }

  @Test("evicts the oldest entries beyond the byte bound, keeping none if one is too large")
  func byteBound() {
    var cache = TailCache(entriesMax: 100, payloadBytesMax: 40)
    for entry in logTestEntries(from: 1, count: 4, dataBytes: 16) { cache.append(entry) }
    #expect(cache.firstIndex == 3, "two 16-byte entries fit in 40 bytes")
    cache.append(logTestEntries(from: 5, count: 1, dataBytes: 41)[0])
    #expect(cache.count == 0)
    cache.append(logTestEntries(from: 6, count: 1)[0])
    #expect(cache.firstIndex == 6)
  }

  @Test("truncation keeps the prefix; dropping a prefix keeps the rest; a gap restarts the cache")
  func truncateAndDrop() {
    var cache = TailCache(entriesMax: 2000, payloadBytesMax: 1 << 20)
    for entry in logTestEntries(from: 1, count: 1500) { cache.append(entry) }
    cache.dropPrefix(through: 1200)
    #expect(cache.firstIndex == 1201)
    cache.truncate(from: 1301)
    #expect(cache.count == 100)
    #expect(cache.entry(at: 1300)?.index == 1300)
    #expect(cache.entry(at: 1301) == nil)
    cache.append(logTestEntries(from: 1400, count: 1)[0])
    #expect(cache.firstIndex == 1400)
    #expect(cache.count == 1)
    cache.truncate(from: 1)
    #expect(cache.count == 0)
  }
}
