import Foundation
import NIOPosix
import O3Common
import O3RPC
import OMMetadata
import OMProto
import OzoneManager
import O3TestSupport
import Testing

/// Start-up recovery of om.db after a checkpoint install stopped at each point of its swap,
/// built as the directories a crash there leaves.
@Suite(.watchdog, .ownThreads) struct DatabaseRecoveryTests {
  /// A directory that will hold om.db and its neighbours.
  private let directory = TemporaryDirectory("recovery")
  private var databasePath: String { directory.path + "/om.db" }

  /// Writes at `path` a database holding only volume `volume`, at its own term#index.
  private func database(at path: String, holding volume: String, writes: Int = 1) throws -> TermIndex {
    let source = try OMHarness("recovery-source")
    for number in 1..<writes { try source.succeed(Requests.createVolume("\(volume)-\(number)")) }
    try source.succeed(Requests.createVolume(volume))
    source.doubleBuffer.awaitFlush()
    try source.store.createCheckpoint(at: path)
    return try source.store.transactionInfo()
  }

  private func entries() throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
  }

  @Test func aSwapStoppedBetweenItsRenamesBringsTheOldDatabaseBack() throws {
    let old = try database(at: databasePath + ".old-1700000000000", holding: "old")
    _ = try database(at: databasePath + ".candidate", holding: "new", writes: 3)
    let (store, actions) = try OMMetadataStore.openRecovering(path: databasePath)
    defer { store.close() }
    #expect(try store.volumeTable.get(OMKeys.volume("old")) != nil)
    #expect(try store.transactionInfo() == old)
    #expect(
      actions == [
        .removedCandidate(databasePath + ".candidate"),
        .restoredOldDatabase(from: databasePath + ".old-1700000000000", to: databasePath),
      ])
    #expect(try entries() == ["om.db"])
  }

  @Test func aSwapStoppedBeforeDeletingTheOldDatabaseKeepsTheNewOne() throws {
    _ = try database(at: databasePath + ".old-1700000000000", holding: "old")
    let new = try database(at: databasePath, holding: "new", writes: 3)
    let (store, actions) = try OMMetadataStore.openRecovering(path: databasePath)
    defer { store.close() }
    #expect(try store.volumeTable.get(OMKeys.volume("new")) != nil)
    #expect(try store.transactionInfo() == new)
    #expect(actions == [.removedOldDatabase(databasePath + ".old-1700000000000")])
    #expect(try entries() == ["om.db"])
  }

  /// A failed install rolls back by deleting the new database and renaming the old one back; a
  /// crash while deleting leaves a database that cannot open beside the old one.
  @Test func anUnopenableDatabaseBesideAnOldOneIsSetAsideAndTheOldOneComesBack() throws {
    let old = try database(at: databasePath + ".old-1700000000000", holding: "old")
    _ = try database(at: databasePath, holding: "new")
    try FileManager.default.removeItem(atPath: databasePath + "/CURRENT")
    let (store, actions) = try OMMetadataStore.openRecovering(path: databasePath)
    defer { store.close() }
    #expect(try store.transactionInfo() == old)
    #expect(try store.volumeTable.get(OMKeys.volume("old")) != nil)
    #expect(actions.count == 2)
    guard case .setAsideUnopenable(let from, let to, _)? = actions.first else {
      Issue.record("expected the unopenable database to be set aside first, got \(actions)")
      return
    }
    #expect(from == databasePath)
    #expect(to.hasPrefix(databasePath + ".unopenable-"))
    #expect(actions.last == .restoredOldDatabase(from: databasePath + ".old-1700000000000", to: databasePath))
    #expect(try entries().count == 2, "om.db and the database set aside for the operator")
  }

  @Test func theNewestOfSeveralOldDatabasesIsRestoredAndTheOthersRemoved() throws {
    _ = try database(at: databasePath + ".old-900", holding: "older")
    let newest = try database(at: databasePath + ".old-1000", holding: "newest")
    let (store, actions) = try OMMetadataStore.openRecovering(path: databasePath)
    defer { store.close() }
    #expect(try store.transactionInfo() == newest)
    #expect(try store.volumeTable.get(OMKeys.volume("newest")) != nil)
    #expect(
      actions == [
        .restoredOldDatabase(from: databasePath + ".old-1000", to: databasePath),
        .removedOldDatabase(databasePath + ".old-900"),
      ])
  }

  @Test func leftoverLeaderCheckpointsAreRemovedAndACleanDirectoryIsLeftAlone() throws {
    _ = try database(at: databasePath, holding: "kept")
    let leftover = databasePath + ".checkpoint-0F6C2A"
    try FileManager.default.createDirectory(atPath: leftover, withIntermediateDirectories: false)
    do {
      let (store, actions) = try OMMetadataStore.openRecovering(path: databasePath)
      store.close()
      #expect(actions == [.removedLeaderCheckpoint(leftover)])
    }
    let (store, actions) = try OMMetadataStore.openRecovering(path: databasePath)
    defer { store.close() }
    #expect(actions.isEmpty)
    #expect(try store.volumeTable.get(OMKeys.volume("kept")) != nil)
  }

  /// A database another OM has open is never moved, whatever lies beside it.
  @Test func aDatabaseInUseIsNotMovedAside() throws {
    _ = try database(at: databasePath, holding: "in-use")
    _ = try database(at: databasePath + ".old-1700000000000", holding: "old")
    let inUse = try OMMetadataStore.open(path: databasePath)
    defer { inUse.close() }
    #expect(throws: (any Error).self) { try OMMetadataStore.openRecovering(path: databasePath) }
    #expect(try entries() == ["om.db", "om.db.old-1700000000000"])
    #expect(try inUse.volumeTable.get(OMKeys.volume("in-use")) != nil)
  }

  /// The whole start-up path: an OM whose install stopped between the renames starts on its
  /// old database and serves it.
  @Test func anOMStartsOnTheOldDatabaseAfterAnInterruptedSwap() async throws {
    let configuration = OzoneConfiguration([
      OzoneConfigKeys.metadataDirs: directory.path, OzoneConfigKeys.omAddress: "127.0.0.1:0", "ozone.om.ratis.port": "0",
    ])
    let settings = try OzoneManagerServer.Settings(configuration: configuration)
    try await settings.storage.initialize()
    let first = try await OzoneManagerServer.start(settings: settings, onFatalError: { _ in })
    let client = try await RPCClient.connect(host: "127.0.0.1", port: first.port, group: MultiThreadedEventLoopGroup.singleton)
    #expect(try await client.submit(Requests.createVolume("served")).status == .ok)
    await client.close()
    await first.shutdown()
    let path = settings.storage.databasePath
    try FileManager.default.moveItem(atPath: path, toPath: path + ".old-1700000000000")
    try FileManager.default.createDirectory(atPath: path + ".candidate", withIntermediateDirectories: false)

    let recorder = LogRecorder()
    let second = try await OzoneManagerServer.start(
      settings: settings, logger: recorder.logger(label: "om", printing: false), onFatalError: { _ in })
    #expect(try second.store.volumeTable.get(OMKeys.volume("served")) != nil)
    #expect(
      recorder.lines(containing: "recovering om.db after an interrupted checkpoint install: restored the database kept before").count
        == 1)
    await second.shutdown()
    #expect(!FileManager.default.fileExists(atPath: path + ".candidate"))
  }
}
