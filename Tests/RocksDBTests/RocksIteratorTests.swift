import RocksDB
import O3TestSupport
import Testing

@Suite("RocksIterator", .watchdog, .ownThreads)
struct RocksIteratorTests {
  @Test("prefixSuccessor skips trailing 0xFF bytes and is nil when none is left")
  func prefixSuccessor() {
    #expect(RocksDatabase.prefixSuccessor([]) == nil)
    #expect(RocksDatabase.prefixSuccessor([0xFF]) == nil)
    #expect(RocksDatabase.prefixSuccessor([0xFF, 0xFF]) == nil)
    #expect(RocksDatabase.prefixSuccessor([0x00]) == [0x01])
    #expect(RocksDatabase.prefixSuccessor([0x01, 0x02]) == [0x01, 0x03])
    #expect(RocksDatabase.prefixSuccessor([0xFE]) == [0xFF])
    #expect(RocksDatabase.prefixSuccessor([0x01, 0xFF]) == [0x02])
    #expect(RocksDatabase.prefixSuccessor([0x01, 0xFE, 0xFF, 0xFF]) == [0x01, 0xFF])
  }

  @Test("lower and upper bounds limit the iteration to [lower, upper)")
  func bounds() throws {
    try withTemporaryDirectory { directory in
      let database = try RocksDatabase.open(path: directory + "/db", columnFamilies: ["t"])
      let family = try database.columnFamily("t")
      for name in ["a", "b", "c", "d", "e"] {
        try database.put(bytes(name), bytes(name.uppercased()), in: family)
      }
      func keys(_ lower: String?, _ upper: String?) throws -> [String] {
        try allEntries(
          of: database, in: family, lowerBound: lower.map(bytes), upperBound: upper.map(bytes)
        )
        .map { String(decoding: $0.key, as: UTF8.self) }
      }
      #expect(try keys(nil, nil) == ["a", "b", "c", "d", "e"])
      #expect(try keys("b", "d") == ["b", "c"])
      #expect(try keys("bb", "dd") == ["c", "d"])
      #expect(try keys("c", nil) == ["c", "d", "e"])
      #expect(try keys(nil, "c") == ["a", "b"])
      #expect(try keys("c", "c").isEmpty)
      let entries = try allEntries(of: database, in: family, lowerBound: bytes("e"))
      #expect(entries == [Entry(key: bytes("e"), value: bytes("E"))])
    }
  }

  @Test("prefix iteration matches a plain filter, with 0xFF bytes and the empty prefix")
  func prefixAgainstFilter() throws {
    try withTemporaryDirectory { directory in
      let database = try RocksDatabase.open(path: directory + "/db", columnFamilies: ["t"])
      let family = try database.columnFamily("t")
      // A tiny alphabet with the edge bytes makes prefixes collide and carries happen.
      let alphabet: [UInt8] = [0x00, 0x01, 0x7F, 0xFE, 0xFF]
      var generator = SplitMix64(seed: 20_261_126)
      var keys: Set<[UInt8]> = [[], [0xFF], [0xFF, 0xFF], [0xFF, 0xFF, 0x00], [0x01, 0xFF]]
      while keys.count < 300 {
        let length = Int.random(in: 1...4, using: &generator)
        keys.insert((0..<length).map { _ in alphabet.randomElement(using: &generator)! })
      }
      for key in keys { try database.put(key, key + [0xAA], in: family) }
      let sortedKeys = keys.sorted(by: bytewiseLess)
      var prefixes: [[UInt8]] = [[], [0xFF], [0xFF, 0xFF], [0x01, 0xFF], [0xFE, 0xFF, 0xFF]]
      for _ in 0..<40 {
        let length = Int.random(in: 1...3, using: &generator)
        prefixes.append((0..<length).map { _ in alphabet.randomElement(using: &generator)! })
      }
      for prefix in prefixes {
        let iterator = try database.makeIterator(in: family, prefix: prefix)
        iterator.seekToFirst()
        let found = try drain(iterator)
        let expected = sortedKeys.filter { $0.starts(with: prefix) }
        #expect(found.map(\.key) == expected, "prefix \(prefix)")
        #expect(found.allSatisfy { $0.value == $0.key + [0xAA] })
      }
    }
  }

  @Test("seek lands on the first key at or after the target, clamped by the bounds")
  func seekSemantics() throws {
    try withTemporaryDirectory { directory in
      let database = try RocksDatabase.open(path: directory + "/db", columnFamilies: [])
      let family = try database.columnFamily("default")
      for name in ["b", "d", "f", "h"] { try database.put(bytes(name), bytes(name), in: family) }

      let iterator = try database.makeIterator(in: family)
      #expect(!iterator.isValid)  // not positioned until a seek
      iterator.seek(to: bytes("d"))
      #expect(iterator.key == bytes("d"))
      iterator.seek(to: bytes("e"))
      #expect(iterator.key == bytes("f"))
      iterator.seek(to: bytes("a"))
      #expect(iterator.key == bytes("b"))
      iterator.seek(to: bytes("i"))
      #expect(!iterator.isValid)
      try iterator.checkError()
      iterator.seek(to: bytes("g"))  // an iterator at its end can seek again
      #expect(iterator.key == bytes("h"))
      iterator.next()
      #expect(!iterator.isValid)

      let bounded = try database.makeIterator(
        in: family, lowerBound: bytes("c"), upperBound: bytes("g"))
      bounded.seek(to: bytes("a"))
      #expect(bounded.key == bytes("d"))
      bounded.seek(to: bytes("g"))
      #expect(!bounded.isValid)
      bounded.seek(to: bytes("e"))
      #expect(try drain(bounded).map(\.key) == [bytes("f")])
    }
  }

  @Test("an iterator reads the data as of its creation")
  func iteratorSnapshot() throws {
    try withTemporaryDirectory { directory in
      let database = try RocksDatabase.open(path: directory + "/db", columnFamilies: [])
      let family = try database.columnFamily("default")
      try database.put(bytes("a"), bytes("1"), in: family)
      let iterator = try database.makeIterator(in: family)
      try database.put(bytes("b"), bytes("2"), in: family)
      try database.delete(bytes("a"), in: family)
      iterator.seekToFirst()
      #expect(try drain(iterator) == [Entry(key: bytes("a"), value: bytes("1"))])
      #expect(
        try allEntries(of: database, in: family) == [Entry(key: bytes("b"), value: bytes("2"))])
    }
  }

  @Test("closing the database invalidates live iterators instead of crashing, and frees the files")
  func closeWithLiveIterator() throws {
    try withTemporaryDirectory { directory in
      let path = directory + "/db"
      let database = try RocksDatabase.open(path: path, columnFamilies: ["t"])
      let family = try database.columnFamily("t")
      for name in ["a", "b", "c"] { try database.put(bytes(name), bytes(name), in: family) }
      let iterator = try database.makeIterator(
        in: family, lowerBound: bytes("a"), upperBound: bytes("z"))
      iterator.seekToFirst()
      #expect(iterator.key == bytes("a"))

      database.close()
      #expect(!iterator.isValid)
      #expect(iterator.key == [])
      #expect(iterator.value == [])
      iterator.next()
      iterator.seek(to: bytes("b"))
      #expect(!iterator.isValid)
      let error = #expect(throws: RocksDBError.self) { try iterator.checkError() }
      #expect(error?.code == .closed)
      let creation = #expect(throws: RocksDBError.self) { try database.makeIterator(in: family) }
      #expect(creation?.code == .closed)

      // The old iterator is still alive, yet the files are free: a reopen takes RocksDB's lock.
      let reopened = try RocksDatabase.open(path: path, columnFamilies: ["t"])
      #expect(try allEntries(of: reopened, in: reopened.columnFamily("t")).count == 3)
      #expect(!iterator.isValid)
    }
  }
}
