import Foundation
import RocksDB
import O3TestSupport
import Testing

@Suite("Checkpoints", .watchdog, .ownThreads)
struct RocksCheckpointTests {
  @Test("a checkpoint reopens as an independent database with identical contents")
  func checkpointIsAnIndependentCopy() throws {
    try withTemporaryDirectory { directory in
      let names = ["default", "keys", "buckets"]
      let original = try RocksDatabase.open(
        path: directory + "/db", columnFamilies: ["keys", "buckets"])
      for (index, name) in names.enumerated() {
        let family = try original.columnFamily(name)
        for key in 0..<50 {
          try original.put(bytes("\(name)/\(key)"), bytes("v\(index)"), in: family)
        }
      }
      try original.flush()  // some data in SST files, some only in the memtables
      for name in names {
        let family = try original.columnFamily(name)
        for key in 50..<80 { try original.put(bytes("\(name)/\(key)"), bytes("late"), in: family) }
        try original.delete(bytes("\(name)/7"), in: family)
      }
      let checkpointPath = directory + "/checkpoint"
      try original.createCheckpoint(at: checkpointPath)

      let copy = try RocksDatabase.open(path: checkpointPath, columnFamilies: [])
      #expect(copy.columnFamilyNames.sorted() == names.sorted())
      var snapshot: [String: [Entry]] = [:]
      for name in names {
        snapshot[name] = try allEntries(of: original, in: original.columnFamily(name))
        #expect(snapshot[name]?.count == 79)
        #expect(try allEntries(of: copy, in: copy.columnFamily(name)) == snapshot[name])
      }

      // Later writes to either side stay on that side.
      for name in names {
        try original.put(bytes("\(name)/after"), bytes("x"), in: original.columnFamily(name))
        try original.delete(bytes("\(name)/1"), in: original.columnFamily(name))
      }
      try original.flush()
      try copy.put(bytes("only-in-copy"), bytes("y"), in: copy.columnFamily("keys"))
      for name in names {
        #expect(
          try allEntries(of: copy, in: copy.columnFamily(name)).filter {
            $0.key != bytes("only-in-copy")
          } == snapshot[name])
      }
      #expect(try original.get(bytes("only-in-copy"), in: original.columnFamily("keys")) == nil)

      // And after a reopen of the copy.
      copy.close()
      let reopenedCopy = try RocksDatabase.open(path: checkpointPath, columnFamilies: [])
      #expect(
        try allEntries(of: reopenedCopy, in: reopenedCopy.columnFamily("buckets"))
          == snapshot["buckets"])
    }
  }

  @Test("a checkpoint into an existing directory fails with RocksDB's reason")
  func checkpointIntoExistingDirectory() throws {
    try withTemporaryDirectory { directory in
      let database = try RocksDatabase.open(path: directory + "/db", columnFamilies: [])
      try database.put(bytes("k"), bytes("v"), in: database.columnFamily("default"))
      let target = directory + "/exists"
      try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: false)
      let error = #expect(throws: RocksDBError.self) { try database.createCheckpoint(at: target) }
      #expect(error?.code == .checkpoint)
      #expect(error?.message.contains(target) == true)
      #expect(error?.message.contains("Directory exists") == true)
      #expect(try FileManager.default.contentsOfDirectory(atPath: target).isEmpty)
    }
  }

  @Test("a checkpoint under a missing parent directory is an I/O error")
  func checkpointUnderMissingParent() throws {
    try withTemporaryDirectory { directory in
      let database = try RocksDatabase.open(path: directory + "/db", columnFamilies: [])
      let error = #expect(throws: RocksDBError.self) {
        try database.createCheckpoint(at: directory + "/missing/checkpoint")
      }
      #expect(error?.code == .ioError)
      #expect(error?.message.contains("IO error") == true)
    }
  }
}
