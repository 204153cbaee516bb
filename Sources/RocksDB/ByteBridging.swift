/// Calls `body` with a pointer to `bytes` and their count, as the C API wants keys and values.
///
/// An empty array may have no storage; RocksDB then gets a valid pointer to nothing rather than
/// NULL.
func withCBytes<Result>(
  _ bytes: [UInt8], _ body: (UnsafePointer<CChar>, Int) throws -> Result
) rethrows -> Result {
  try bytes.withUnsafeBufferPointer { buffer in
    guard let base = buffer.baseAddress else {
      return try withUnsafePointer(to: CChar(0)) { try body($0, 0) }
    }
    return try base.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
      try body($0, buffer.count)
    }
  }
}

/// Copies `count` bytes that RocksDB lent us into a Swift array.
func copyBytes(_ start: UnsafePointer<CChar>?, count: Int) -> [UInt8] {
  guard let start, count > 0 else { return [] }
  return Array(UnsafeRawBufferPointer(start: start, count: count))
}

/// A heap copy of some bytes that RocksDB may point at for as long as we keep it.
///
/// `rocksdb_readoptions_set_iterate_*_bound` keeps the pointer it is given, so an iterator's bounds
/// cannot live in a Swift array, which may move or be freed.
struct PinnedBytes {
  let start: UnsafeMutablePointer<CChar>
  let count: Int

  init(copying bytes: [UInt8]) {
    count = bytes.count
    start = .allocate(capacity: max(1, bytes.count))
    withCBytes(bytes) { source, count in start.initialize(from: source, count: count) }
  }

  func deallocate() { start.deallocate() }
}
