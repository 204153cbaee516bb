extension OMMetadataStore {
  /// Writes every table's memtable to SST files and waits: what the double buffer has written
  /// then survives a power cut, not only the process dying (its batches go to RocksDB without
  /// fsync, since the Raft log is the write-ahead log). Called before the Raft log is purged
  /// behind a snapshot, as Ozone's `takeSnapshot` flushes RocksDB.
  public func flushToDisk() throws {
    try database.flush()
  }
}
