import Foundation
import RocksDB

/// Runs `body` with a fresh, unique directory that is removed afterwards.
func withTemporaryDirectory<Result>(_ body: (String) throws -> Result) throws -> Result {
  let template = FileManager.default.temporaryDirectory.path + "/o3-rocksdb-test-XXXXXX"
  var templateBytes = Array(template.utf8CString)
  guard let created = mkdtemp(&templateBytes) else {
    throw RocksDBTestError("mkdtemp failed for \(template)")
  }
  let directory = String(cString: created)
  defer { try? FileManager.default.removeItem(atPath: directory) }
  return try body(directory)
}

struct RocksDBTestError: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// One key–value pair read back, comparable in expectations.
struct Entry: Equatable, CustomStringConvertible {
  let key: [UInt8]
  let value: [UInt8]
  var description: String { "\(key)=\(value)" }
}

/// Every entry of `family` in key order, read with a fresh iterator.
func allEntries(
  of database: RocksDatabase, in family: RocksColumnFamily, lowerBound: [UInt8]? = nil,
  upperBound: [UInt8]? = nil
) throws -> [Entry] {
  let iterator = try database.makeIterator(
    in: family, lowerBound: lowerBound, upperBound: upperBound)
  iterator.seekToFirst()
  return try drain(iterator)
}

/// The entries from the iterator's position to its end.
func drain(_ iterator: RocksIterator) throws -> [Entry] {
  var entries: [Entry] = []
  while iterator.isValid {
    entries.append(Entry(key: iterator.key, value: iterator.value))
    iterator.next()
  }
  try iterator.checkError()
  return entries
}

/// A small seeded generator so that randomized tests replay exactly.
struct SplitMix64: RandomNumberGenerator {
  private var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var mixed = state
    mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
    mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
    return mixed ^ (mixed >> 31)
  }
}

/// Lexicographic byte order, RocksDB's default comparator.
func bytewiseLess(_ left: [UInt8], _ right: [UInt8]) -> Bool {
  left.lexicographicallyPrecedes(right)
}
