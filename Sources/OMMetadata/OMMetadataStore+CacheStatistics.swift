extension OMMetadataStore {
  /// How many rows each cached table holds in memory now, tombstones included, in table order.
  ///
  /// Full caches (volumes, buckets) hold every row for good; partial caches (keys, open keys,
  /// deleted keys) hold only what apply wrote and the double buffer has not yet flushed, so their
  /// counts stay near the unflushed transactions when flushes keep up.
  public var cacheEntryCounts: [(table: OMTableName, entries: Int)] {
    [
      (table: volumeTable.name, entries: volumeTable.cache.count),
      (table: bucketTable.name, entries: bucketTable.cache.count),
      (table: keyTable.name, entries: keyTable.cache.count),
      (table: openKeyTable.name, entries: openKeyTable.cache.count),
      (table: deletedTable.name, entries: deletedTable.cache.count),
    ]
  }
}
