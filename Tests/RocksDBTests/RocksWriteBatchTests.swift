import RocksDB
import O3TestSupport
import Testing

@Suite("RocksWriteBatch", .watchdog, .ownThreads)
struct RocksWriteBatchTests {
  @Test("a batch of puts and deletes over several families applies all at once")
  func batchAppliesEverything() throws {
    try withTemporaryDirectory { directory in
      let database = try RocksDatabase.open(path: directory + "/db", columnFamilies: ["a", "b"])
      let a = try database.columnFamily("a")
      let b = try database.columnFamily("b")
      try database.put(bytes("old"), bytes("1"), in: a)
      try database.put(bytes("old"), bytes("2"), in: b)

      let batch = RocksWriteBatch()
      batch.put(bytes("new"), bytes("3"), in: a)
      batch.put(bytes("new"), bytes("4"), in: b)
      batch.delete(bytes("old"), in: a)
      batch.delete(bytes("old"), in: b)
      batch.put(bytes("new"), bytes("5"), in: b)  // later operations win within a batch
      #expect(batch.count == 5)
      // Nothing is visible before the write.
      #expect(try database.get(bytes("new"), in: a) == nil)
      #expect(try database.get(bytes("old"), in: a) == bytes("1"))

      try database.write(batch, sync: false)
      #expect(try allEntries(of: database, in: a) == [Entry(key: bytes("new"), value: bytes("3"))])
      #expect(try allEntries(of: database, in: b) == [Entry(key: bytes("new"), value: bytes("5"))])
    }
  }

  @Test("a synced batch survives a reopen")
  func syncedBatch() throws {
    try withTemporaryDirectory { directory in
      let path = directory + "/db"
      do {
        let database = try RocksDatabase.open(path: path, columnFamilies: ["a"])
        let batch = RocksWriteBatch()
        for index in 0..<100 {
          batch.put(
            bytes("key\(index)"), bytes("value\(index)"), in: try database.columnFamily("a"))
        }
        try database.write(batch, sync: true)
        database.close()
      }
      let reopened = try RocksDatabase.open(path: path, columnFamilies: ["a"])
      let entries = try allEntries(of: reopened, in: reopened.columnFamily("a"))
      #expect(entries.count == 100)
      #expect(try reopened.get(bytes("key42"), in: reopened.columnFamily("a")) == bytes("value42"))
    }
  }

  @Test("count and dataSizeBytes grow with operations; clear empties the batch")
  func countAndClear() throws {
    try withTemporaryDirectory { directory in
      let database = try RocksDatabase.open(path: directory + "/db", columnFamilies: [])
      let family = try database.columnFamily("default")
      let batch = RocksWriteBatch()
      let emptySize = batch.dataSizeBytes
      batch.put(bytes("key"), Array(repeating: 7, count: 1000), in: family)
      batch.delete(bytes("other"), in: family)
      #expect(batch.count == 2)
      #expect(batch.dataSizeBytes >= emptySize + 1000)
      batch.clear()
      #expect(batch.count == 0)
      #expect(batch.dataSizeBytes == emptySize)
      try database.write(batch, sync: false)
      #expect(try database.get(bytes("key"), in: family) == nil)
    }
  }

  @Test("a batch naming families of two databases is refused whole, and neither changes")
  func batchAcrossDatabases() throws {
    try withTemporaryDirectory { directory in
      let first = try RocksDatabase.open(path: directory + "/first", columnFamilies: [])
      let second = try RocksDatabase.open(path: directory + "/second", columnFamilies: [])
      let batch = RocksWriteBatch()
      batch.put(bytes("k"), bytes("v"), in: try first.columnFamily("default"))
      batch.put(bytes("k"), bytes("v"), in: try second.columnFamily("default"))
      for database in [first, second] {
        let error = #expect(throws: RocksDBError.self) { try database.write(batch, sync: false) }
        #expect(error?.code == .invalidArgument)
        #expect(try allEntries(of: database, in: database.columnFamily("default")).isEmpty)
      }
      // After clear the batch is usable again, with either database.
      batch.clear()
      batch.put(bytes("k"), bytes("v"), in: try second.columnFamily("default"))
      try second.write(batch, sync: false)
      #expect(try second.get(bytes("k"), in: second.columnFamily("default")) == bytes("v"))
    }
  }

  @Test("a batch filled after its database closed cannot be written to the reopened one")
  func batchAfterClose() throws {
    try withTemporaryDirectory { directory in
      let path = directory + "/db"
      let first = try RocksDatabase.open(path: path, columnFamilies: [])
      let staleFamily = try first.columnFamily("default")
      first.close()
      let batch = RocksWriteBatch()
      batch.put(bytes("k"), bytes("v"), in: staleFamily)
      #expect(batch.count == 0)
      let closed = #expect(throws: RocksDBError.self) { try first.write(batch, sync: false) }
      #expect(closed?.code == .closed)
      let reopened = try RocksDatabase.open(path: path, columnFamilies: [])
      let refused = #expect(throws: RocksDBError.self) { try reopened.write(batch, sync: false) }
      #expect(refused?.code == .closed)
      #expect(try reopened.get(bytes("k"), in: reopened.columnFamily("default")) == nil)
    }
  }
}
