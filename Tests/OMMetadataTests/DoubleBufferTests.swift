import Foundation
import OMMetadata
import OMProto
import O3TestSupport
import Testing

@Suite(.watchdog, .ownThreads) struct DoubleBufferTests {
  private func part(_ name: String, size: UInt64 = 1) -> OMBatchPart {
    var part = OMBatchPart()
    part.keys = [TableChange(key: OMKeys.key("v", "b", name), value: makeKey("v", "b", name, size: size))]
    return part
  }

  @Test func oneBatchCarriesItsLastTermIndex() throws {
    let fixture = try StoreFixture()
    defer { fixture.close() }
    fixture.buffer.holdFlushes()
    for index in 1...5 { fixture.apply(part("k\(index)"), index: UInt64(index), term: 3) }
    #expect(try fixture.store.transactionInfo() == .zero, "nothing written while held")
    #expect(fixture.buffer.batchCount == 0)
    fixture.buffer.releaseFlushes()
    fixture.buffer.awaitFlush()
    #expect(fixture.buffer.batchCount == 1, "the five transactions went in one WriteBatch")
    #expect(try fixture.store.transactionInfo() == TermIndex(term: 3, index: 5))
    #expect(fixture.buffer.flushedTermIndex == TermIndex(term: 3, index: 5))
  }

  @Test func backPressureBlocksAddUntilAFlushMakesRoom() async throws {
    let fixture = try StoreFixture(maxUnflushed: 3)
    defer { fixture.close() }
    fixture.buffer.holdFlushes()
    for index in 1...3 { fixture.apply(part("k\(index)"), index: UInt64(index)) }
    let added = Completion()
    Thread.detachNewThread { [fixture] in
      fixture.apply(part("k4"), index: 4)
      added.mark()
    }
    #expect(await eventually("the fourth add blocks") { fixture.buffer.blockedAddCount == 1 })
    #expect(!added.isDone, "apply waits while 3 transactions are unflushed")
    fixture.buffer.releaseFlushes()
    #expect(await eventually("the fourth add completes") { added.isDone })
    fixture.buffer.awaitFlush()
    #expect(try fixture.store.transactionInfo().index == 4)
  }

  @Test func waitersRunOnlyOnceTheirIndexIsWritten() async throws {
    let fixture = try StoreFixture()
    defer { fixture.close() }
    fixture.buffer.holdFlushes()
    fixture.apply(part("a"), index: 1)
    let flushed = Completion()
    fixture.buffer.whenFlushed(1) { flushed.mark() }
    #expect(!flushed.isDone)
    fixture.buffer.releaseFlushes()
    #expect(await eventually("the waiter runs") { flushed.isDone })
    #expect(try fixture.store.keyTable.getSkipCache(OMKeys.key("v", "b", "a")) != nil)
    let immediate = Completion()
    fixture.buffer.whenFlushed(1) { immediate.mark() }
    #expect(immediate.isDone, "an index already flushed runs the callback at once")
  }

  @Test func aNewerOverwriteSurvivesEvictionOfTheOlderOne() throws {
    let fixture = try StoreFixture()
    defer { fixture.close() }
    let key = OMKeys.key("v", "b", "k")
    fixture.buffer.holdFlushes()
    fixture.apply(part("k", size: 1), index: 1)
    fixture.buffer.releaseFlushes()
    fixture.buffer.awaitFlush()
    fixture.buffer.holdFlushes()
    fixture.apply(part("k", size: 2), index: 2)
    // Evicting epoch 1 again (as a slow cleanup would) must keep the epoch-2 entry.
    fixture.store.keyTable.cache.evict([(key: key, epoch: 1)])
    #expect(try fixture.store.keyTable.get(key)?.dataSize == 2)
    fixture.buffer.releaseFlushes()
    fixture.buffer.awaitFlush()
    #expect(fixture.store.keyTable.cache.count == 0)
    #expect(try fixture.store.keyTable.get(key)?.dataSize == 2)
  }

  @Test func fullCacheKeepsRowsAndEvictsOnlyTombstones() throws {
    let fixture = try StoreFixture()
    defer { fixture.close() }
    var volume = VolumeInfo()
    volume.volume = "vol"
    var create = OMBatchPart()
    create.volumes = [TableChange(key: OMKeys.volume("vol"), value: volume), TableChange(key: OMKeys.volume("gone"), value: volume)]
    fixture.apply(create, index: 1)
    var delete = OMBatchPart()
    delete.volumes = [TableChange(key: OMKeys.volume("gone"), value: nil)]
    fixture.apply(delete, index: 2)
    fixture.buffer.awaitFlush()
    #expect(fixture.store.volumeTable.cache.count == 1, "the live row stays cached, the tombstone is evicted")
    #expect(try fixture.store.volumeTable.get(OMKeys.volume("gone")) == nil)
    #expect(try fixture.store.volumeTable.get(OMKeys.volume("vol")) != nil)
  }

  @Test func aFailedWriteIsFatal() async throws {
    let fixture = try StoreFixture()
    fixture.buffer.holdFlushes()
    fixture.apply(part("a"), index: 1)
    fixture.store.close()
    fixture.buffer.releaseFlushes()
    #expect(await eventually("the fatal handler runs") { fixture.fatalErrors.count == 1 })
    fixture.buffer.stop()
  }
}

/// A flag one thread sets and another reads.
final class Completion: @unchecked Sendable {
  // @unchecked: `done` is guarded by `lock`.
  private let lock = NSLock()
  private var done = false

  func mark() { lock.withLock { done = true } }
  var isDone: Bool { lock.withLock { done } }
}
