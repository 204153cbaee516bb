import Foundation
import OMMetadata
import OMProto
import O3TestSupport
import Testing

/// `OMMetadataStore.replace`: a checkpoint swapped in place, and the old database kept serving
/// whenever the new one cannot take over.
@Suite(.watchdog, .ownThreads) struct StoreReplaceTests {
  /// A RocksDB checkpoint of a store holding only volume `source`, in `directory/candidate`.
  private static func candidate(in directory: String) throws -> (path: String, position: TermIndex) {
    let source = try OMHarness("replace-source")
    try source.succeed(Requests.createVolume("source"))
    source.doubleBuffer.awaitFlush()
    let path = directory + "/candidate"
    try source.store.createCheckpoint(at: path)
    return (path, try source.store.transactionInfo())
  }

  private static func leftovers(beside store: OMMetadataStore) throws -> [String] {
    let directory = (store.path as NSString).deletingLastPathComponent
    return try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasPrefix("om.db.old-") }
  }

  @Test func aCheckpointReplacesTheDatabaseAndItsCaches() throws {
    let om = try OMHarness()
    try om.succeed(Requests.createVolume("kept"))
    let (candidate, position) = try Self.candidate(in: om.directory.path)
    om.doubleBuffer.stop()
    try om.store.replace(with: candidate, oldSuffix: "1") { installed in
      guard try installed.transactionInfo() == position else { throw HarnessError("validated the wrong database") }
    }
    om.doubleBuffer.restart(flushedUpTo: position)
    #expect(try om.volume("source") != nil)
    #expect(try om.volume("kept") == nil, "the full cache was reloaded from the checkpoint")
    #expect(try om.store.transactionInfo() == position)
    #expect(try Self.leftovers(beside: om.store).isEmpty, "the old database is deleted once the new one serves")
    #expect(!FileManager.default.fileExists(atPath: candidate))
  }

  @Test func aRejectedCheckpointLeavesTheOldDatabaseServing() throws {
    let om = try OMHarness()
    try om.succeed(Requests.createVolume("kept"))
    let (candidate, _) = try Self.candidate(in: om.directory.path)
    om.doubleBuffer.stop()
    let kept = om.doubleBuffer.flushedTermIndex
    #expect(throws: HarnessError.self) {
      try om.store.replace(with: candidate, oldSuffix: "2") { _ in throw HarnessError("not this one") }
    }
    om.doubleBuffer.restart(flushedUpTo: kept)
    #expect(try om.volume("kept") != nil)
    #expect(try om.volume("source") == nil)
    #expect(try om.store.transactionInfo() == kept)
    #expect(try Self.leftovers(beside: om.store).isEmpty)
  }

  @Test func aMissingCandidateLeavesTheOldDatabaseServing() throws {
    let om = try OMHarness()
    try om.succeed(Requests.createVolume("kept"))
    om.doubleBuffer.stop()
    let kept = om.doubleBuffer.flushedTermIndex
    #expect(throws: (any Error).self) {
      try om.store.replace(with: om.directory.path + "/absent", oldSuffix: "3") { _ in }
    }
    om.doubleBuffer.restart(flushedUpTo: kept)
    #expect(try om.volume("kept") != nil)
    try om.succeed(Requests.createVolume("later"))
    om.doubleBuffer.awaitFlush()
    #expect(try om.store.volumeTable.getSkipCache(OMKeys.volume("later")) != nil, "the reopened database takes writes")
  }
}
