import RocksDB
import O3TestSupport
import Testing

@Suite("RocksDatabase", .watchdog, .ownThreads)
struct RocksDatabaseTests {
  @Test("put, get and delete stay within their column family")
  func putGetDeletePerFamily() throws {
    try withTemporaryDirectory { directory in
      let database = try RocksDatabase.open(path: directory + "/db", columnFamilies: ["a", "b"])
      let names = ["default", "a", "b"]
      #expect(database.columnFamilyNames == names)
      let families = try names.map { try database.columnFamily($0) }
      for family in families {
        try database.put(bytes("key"), bytes("value in \(family.name)"), in: family)
      }
      for family in families {
        #expect(try database.get(bytes("key"), in: family) == bytes("value in \(family.name)"))
      }
      try database.delete(bytes("key"), in: families[1], sync: true)
      #expect(try database.get(bytes("key"), in: families[1]) == nil)
      #expect(try database.get(bytes("key"), in: families[0]) == bytes("value in default"))
      #expect(try database.get(bytes("key"), in: families[2]) == bytes("value in b"))
      #expect(try database.get(bytes("missing"), in: families[2]) == nil)
      // Empty keys and values are legal in RocksDB and must survive the bridging.
      try database.put([], [], in: families[2], sync: true)
      #expect(try database.get([], in: families[2]) == [])
      let binary: [UInt8] = [0, 0xFF, 0, 1]
      try database.put(binary, binary + binary, in: families[2])
      #expect(try database.get(binary, in: families[2]) == binary + binary)
    }
  }

  @Test("a reopen after close keeps the data of every family")
  func reopenKeepsData() throws {
    try withTemporaryDirectory { directory in
      let path = directory + "/db"
      let names = ["default", "volumes", "buckets"]
      do {
        let database = try RocksDatabase.open(path: path, columnFamilies: ["volumes", "buckets"])
        for name in names {
          // Unsynced writes: a clean close must still keep them (the WAL is replayed).
          try database.put(bytes("k"), bytes(name), in: database.columnFamily(name))
        }
        database.close()
      }
      let reopened = try RocksDatabase.open(path: path, columnFamilies: ["volumes", "buckets"])
      #expect(reopened.columnFamilyNames == names)
      for name in names {
        #expect(try reopened.get(bytes("k"), in: reopened.columnFamily(name)) == bytes(name))
      }
    }
  }

  @Test("a reopen opens families it was not told about")
  func reopenFindsUnnamedFamilies() throws {
    try withTemporaryDirectory { directory in
      let path = directory + "/db"
      do {
        let database = try RocksDatabase.open(path: path, columnFamilies: ["a", "b", "c"])
        try database.put(bytes("k"), bytes("in c"), in: database.columnFamily("c"))
        database.close()
      }
      #expect(Set(try RocksDatabase.listColumnFamilies(path: path)) == ["default", "a", "b", "c"])
      let reopened = try RocksDatabase.open(path: path, columnFamilies: ["b", "new"])
      #expect(reopened.columnFamilyNames == ["default", "b", "new", "a", "c"])
      #expect(try reopened.get(bytes("k"), in: reopened.columnFamily("c")) == bytes("in c"))
      reopened.close()
      #expect(
        Set(try RocksDatabase.listColumnFamilies(path: path)) == ["default", "a", "b", "c", "new"])
    }
  }

  @Test("an unknown family name throws invalidArgument")
  func unknownFamily() throws {
    try withTemporaryDirectory { directory in
      let database = try RocksDatabase.open(path: directory + "/db", columnFamilies: ["a"])
      let error = #expect(throws: RocksDBError.self) { try database.columnFamily("nope") }
      #expect(error?.code == .invalidArgument)
      #expect(error?.message.contains("nope") == true)
    }
  }

  @Test("a family of another database (even at the same path, reopened) is refused")
  func familyOfAnotherDatabase() throws {
    try withTemporaryDirectory { directory in
      let path = directory + "/db"
      let first = try RocksDatabase.open(path: path, columnFamilies: ["a"])
      let staleFamily = try first.columnFamily("a")
      first.close()
      let second = try RocksDatabase.open(path: path, columnFamilies: ["a"])
      let error = #expect(throws: RocksDBError.self) {
        try second.put(bytes("k"), bytes("v"), in: staleFamily)
      }
      #expect(error?.code == .invalidArgument)
      let staleGet = #expect(throws: RocksDBError.self) {
        try second.get(bytes("k"), in: staleFamily)
      }
      #expect(staleGet?.code == .invalidArgument)
      #expect(try second.get(bytes("k"), in: second.columnFamily("a")) == nil)
    }
  }

  @Test("open options: createIfMissing, createMissingColumnFamilies, errorIfExists")
  func openOptions() throws {
    try withTemporaryDirectory { directory in
      let path = directory + "/db"
      var strict = RocksDBOptions()
      strict.createIfMissing = false
      let missing = #expect(throws: RocksDBError.self) {
        try RocksDatabase.open(path: path, columnFamilies: [], options: strict)
      }
      #expect(missing?.code == .open)
      #expect(missing?.message.contains(path) == true)

      try RocksDatabase.open(path: path, columnFamilies: ["a"]).close()
      strict.createMissingColumnFamilies = false
      let noFamily = #expect(throws: RocksDBError.self) {
        try RocksDatabase.open(path: path, columnFamilies: ["b"], options: strict)
      }
      #expect(noFamily?.code == .open)
      #expect(
        try RocksDatabase.open(path: path, columnFamilies: ["a"], options: strict).isClosed == false
      )

      var exclusive = RocksDBOptions()
      exclusive.errorIfExists = true
      let exists = #expect(throws: RocksDBError.self) {
        try RocksDatabase.open(path: path, columnFamilies: [], options: exclusive)
      }
      #expect(exists?.code == .open)
    }
  }

  @Test(
    "every offered compression is linked into Debian's RocksDB",
    arguments: [RocksDBOptions.Compression.none, .snappy, .lz4, .zstd])
  func compression(_ compression: RocksDBOptions.Compression) throws {
    try withTemporaryDirectory { directory in
      let path = directory + "/db"
      var options = RocksDBOptions()
      options.compression = compression
      let value = Array(repeating: bytes("volume/bucket/key "), count: 20).flatMap { $0 }
      do {
        let database = try RocksDatabase.open(path: path, columnFamilies: [], options: options)
        let family = try database.columnFamily("default")
        for index in 0..<200 { try database.put(bytes("key\(index)"), value, in: family) }
        try database.flush()
        database.close()
      }
      let reopened = try RocksDatabase.open(path: path, columnFamilies: [], options: options)
      let entries = try allEntries(of: reopened, in: reopened.columnFamily("default"))
      #expect(entries.count == 200)
      #expect(entries.allSatisfy { $0.value == value })
    }
  }
}
