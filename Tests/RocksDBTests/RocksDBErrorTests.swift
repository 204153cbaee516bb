import Dispatch
import Foundation
import Synchronization
import O3TestSupport
import Testing

@testable import RocksDB

@Suite("Errors", .watchdog, .ownThreads)
struct RocksDBErrorTests {
  @Test("RocksDB statuses refine the operation's code: Corruption always, IO error except at open")
  func classification() {
    #expect(
      RocksDBError.classify(operation: .read, rocksDBMessage: "Corruption: bad block")
        == .corruption)
    #expect(
      RocksDBError.classify(operation: .open, rocksDBMessage: "Corruption: bad MANIFEST")
        == .corruption)
    #expect(
      RocksDBError.classify(operation: .write, rocksDBMessage: "IO error: No space left")
        == .ioError)
    #expect(
      RocksDBError.classify(operation: .open, rocksDBMessage: "IO error: While lock file") == .open)
    #expect(
      RocksDBError.classify(operation: .write, rocksDBMessage: "Invalid argument: x") == .write)
    let error = RocksDBError(operation: .read, doing: "reading k", rocksDBMessage: "IO error: gone")
    #expect(error.message == "reading k: IO error: gone")
    #expect(error.description == "RocksDBError.ioError: reading k: IO error: gone")
  }

  @Test("opening a path that is a file fails with .open and RocksDB's message")
  func openFilePath() throws {
    try withTemporaryDirectory { directory in
      let path = directory + "/plain-file"
      #expect(FileManager.default.createFile(atPath: path, contents: Data("x".utf8)))
      let error = #expect(throws: RocksDBError.self) {
        try RocksDatabase.open(path: path, columnFamilies: ["a"])
      }
      #expect(error?.code == .open)
      #expect(error?.message.hasPrefix("opening RocksDB at \(path): IO error:") == true)
      #expect(error?.message.contains("not a directory") == true)
    }
  }

  @Test("a second open of a database in use fails with .open naming the lock")
  func openTwice() throws {
    try withTemporaryDirectory { directory in
      let path = directory + "/db"
      let database = try RocksDatabase.open(path: path, columnFamilies: [])
      let error = #expect(throws: RocksDBError.self) {
        try RocksDatabase.open(path: path, columnFamilies: [])
      }
      #expect(error?.code == .open)
      #expect(error?.message.contains("lock") == true)
      #expect(!database.isClosed)
    }
  }

  @Test("every call on a closed database throws .closed; close is idempotent")
  func closedDatabase() throws {
    try withTemporaryDirectory { directory in
      let database = try RocksDatabase.open(path: directory + "/db", columnFamilies: ["a"])
      let family = try database.columnFamily("a")
      let batch = RocksWriteBatch()
      batch.put(bytes("k"), bytes("v"), in: family)
      database.close()
      database.close()
      #expect(database.isClosed)
      let calls: [(String, () throws -> Void)] = [
        ("columnFamily", { _ = try database.columnFamily("a") }),
        ("get", { _ = try database.get(bytes("k"), in: family) }),
        ("put", { try database.put(bytes("k"), bytes("v"), in: family) }),
        ("delete", { try database.delete(bytes("k"), in: family) }),
        ("write", { try database.write(batch, sync: true) }),
        ("makeIterator", { _ = try database.makeIterator(in: family) }),
        ("makeIterator(prefix:)", { _ = try database.makeIterator(in: family, prefix: [1]) }),
        ("createCheckpoint", { try database.createCheckpoint(at: directory + "/checkpoint") }),
        ("flush", { try database.flush() }),
      ]
      for (name, call) in calls {
        let error = #expect(throws: RocksDBError.self, "\(name)") { try call() }
        #expect(error?.code == .closed, "\(name)")
        #expect(error?.message.contains(directory) == true, "\(name)")
      }
    }
  }

  @Test("calls racing a close either complete or throw .closed, and .closed stays")
  func closeDuringCalls() throws {
    try withTemporaryDirectory { directory in
      let database = try RocksDatabase.open(path: directory + "/db", columnFamilies: ["a"])
      let family = try database.columnFamily("a")
      try database.put(bytes("k"), bytes("v"), in: family)
      let callsStarted = Atomic<Int>(0)
      let violations = Mutex<[String]>([])
      let workers = 4
      let callsPerWorker = 3_000
      DispatchQueue.concurrentPerform(iterations: workers + 1) { worker in
        if worker == workers {
          // Close once the workers are under way (or finished, if they were quicker).
          while callsStarted.load(ordering: .relaxed) < callsPerWorker, !database.isClosed {
            sched_yield()
          }
          database.close()
          return
        }
        var sawClosed = false
        for call in 0..<callsPerWorker {
          callsStarted.add(1, ordering: .relaxed)
          do {
            if call % 2 == 0 {
              let value = try database.get(bytes("k"), in: family)
              if value != bytes("v") {
                violations.withLock { $0.append("read \(String(describing: value))") }
              }
            } else {
              try database.put(bytes("w\(worker)"), bytes("\(call)"), in: family)
            }
            if sawClosed { violations.withLock { $0.append("call succeeded after .closed") } }
          } catch let error as RocksDBError where error.code == .closed {
            sawClosed = true
          } catch {
            violations.withLock { $0.append("unexpected \(error)") }
          }
        }
      }
      #expect(violations.withLock { $0 } == [])
      #expect(database.isClosed)
      let reopened = try RocksDatabase.open(path: directory + "/db", columnFamilies: ["a"])
      #expect(try reopened.get(bytes("k"), in: reopened.columnFamily("a")) == bytes("v"))
    }
  }

  @Test("a damaged SST file reads as .corruption, through get and through an iterator")
  func corruption() throws {
    try withTemporaryDirectory { directory in
      let path = directory + "/db"
      do {
        let database = try RocksDatabase.open(path: path, columnFamilies: [])
        let family = try database.columnFamily("default")
        for index in 0..<100 {
          try database.put(bytes("key\(index)"), bytes("value\(index)"), in: family)
        }
        try database.flush()
        database.close()
      }
      let tables = try FileManager.default.contentsOfDirectory(atPath: path).filter {
        $0.hasSuffix(".sst")
      }
      try #require(!tables.isEmpty)
      for table in tables {
        // The first data block starts at offset 0; the footer and index at the end stay intact,
        // so the open succeeds and the damage shows on the first read of the block.
        let handle = try #require(FileHandle(forUpdatingAtPath: path + "/" + table))
        try handle.seek(toOffset: 8)
        try handle.write(contentsOf: Data(repeating: 0x55, count: 16))
        try handle.close()
      }
      let database = try RocksDatabase.open(path: path, columnFamilies: [])
      let family = try database.columnFamily("default")
      let readError = #expect(throws: RocksDBError.self) {
        try database.get(bytes("key1"), in: family)
      }
      #expect(readError?.code == .corruption)
      #expect(readError?.message.contains("Corruption:") == true)

      let iterator = try database.makeIterator(in: family)
      iterator.seekToFirst()
      #expect(!iterator.isValid)
      let iterateError = #expect(throws: RocksDBError.self) { try iterator.checkError() }
      #expect(iterateError?.code == .corruption)
    }
  }
}
