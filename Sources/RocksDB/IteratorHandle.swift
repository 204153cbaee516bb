import CRocksDB

/// The C objects behind one `RocksIterator`: the iterator, its read options and the bounds those
/// options point at.
///
/// Destroyed exactly once, either by its owner's deinit or by a close of the database, both under
/// the database's lock (see `DatabaseHandle`).
final class IteratorHandle: @unchecked Sendable {
  // Safe to share with the registry: the fields change only in `destroy()`, which runs under the
  // database lock's write side (close) or, by the single owner, under its read side.
  private(set) var pointer: OpaquePointer?
  private var readOptions: OpaquePointer?
  /// Kept alive until after the iterator: the read options hold these pointers without copying.
  private var bounds: [PinnedBytes]

  init(database: OpaquePointer, family: OpaquePointer, lowerBound: [UInt8]?, upperBound: [UInt8]?) {
    let readOptions = rocksdb_readoptions_create()!
    var bounds: [PinnedBytes] = []
    if let lowerBound {
      let pinned = PinnedBytes(copying: lowerBound)
      rocksdb_readoptions_set_iterate_lower_bound(readOptions, pinned.start, pinned.count)
      bounds.append(pinned)
    }
    if let upperBound {
      let pinned = PinnedBytes(copying: upperBound)
      rocksdb_readoptions_set_iterate_upper_bound(readOptions, pinned.start, pinned.count)
      bounds.append(pinned)
    }
    self.readOptions = readOptions
    self.bounds = bounds
    pointer = rocksdb_create_iterator_cf(database, readOptions, family)!
  }

  func destroy() {
    guard let pointer else { return }
    rocksdb_iter_destroy(pointer)
    self.pointer = nil
    if let readOptions { rocksdb_readoptions_destroy(readOptions) }
    readOptions = nil
    for bound in bounds { bound.deallocate() }
    bounds = []
  }
}
