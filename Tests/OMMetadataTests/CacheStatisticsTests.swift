import Foundation
import OMMetadata
import OMProto
import O3TestSupport
import Testing

/// The counts behind the OM's memory gauges: what the table caches and the double buffer hold
/// before a flush, and that a flush empties the partial caches while full caches keep their rows.
@Suite(.watchdog, .ownThreads) struct CacheStatisticsTests {
  private func counts(_ store: OMMetadataStore) -> [OMTableName: Int] {
    Dictionary(uniqueKeysWithValues: store.cacheEntryCounts.map { ($0.table, $0.entries) })
  }

  @Test func unflushedChangesAreCountedAndAFlushReleasesThem() throws {
    let fixture = try StoreFixture()
    defer { fixture.close() }
    fixture.buffer.holdFlushes()
    var volume = OMBatchPart()
    volume.volumes = [TableChange(key: OMKeys.volume("v"), value: VolumeInfo())]
    fixture.apply(volume, index: 1)
    for index in 2...4 {
      var part = OMBatchPart()
      let name = "k\(index)"
      part.openKeys = [TableChange(key: OMKeys.openKey("v", "b", name, clientID: 9), value: nil)]
      part.keys = [TableChange(key: OMKeys.key("v", "b", name), value: makeKey("v", "b", name))]
      fixture.apply(part, index: UInt64(index))
    }
    let held = counts(fixture.store)
    #expect(held == [.volumeTable: 1, .bucketTable: 0, .keyTable: 3, .openKeyTable: 3, .deletedTable: 0])
    #expect(fixture.buffer.pendingChangeCount == 7, "one volume and two rows for each of three keys")

    fixture.buffer.releaseFlushes()
    fixture.buffer.awaitFlush()
    let flushed = counts(fixture.store)
    #expect(flushed == [.volumeTable: 1, .bucketTable: 0, .keyTable: 0, .openKeyTable: 0, .deletedTable: 0])
    #expect(fixture.buffer.pendingChangeCount == 0)
  }
}
