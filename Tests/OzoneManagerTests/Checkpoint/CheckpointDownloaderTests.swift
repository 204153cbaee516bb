import Foundation
import OMMetadata
import OzoneManager
import Synchronization
import O3TestSupport
import Testing

/// The follower's downloader against the real endpoint over a real OM database.
@Suite(.watchdog) struct CheckpointDownloaderTests {
  private func configuration(_ fixture: CheckpointFixture, port: Int, name: String, kept: String? = nil, token: String? = nil)
    -> CheckpointDownloader.Configuration
  {
    CheckpointDownloader.Configuration(
      leaderHost: "127.0.0.1", leaderPort: port, token: token, candidateDirectory: fixture.directory.path + "/" + name,
      keptDatabase: kept)
  }

  private func rows(_ store: OMMetadataStore) throws -> [TableRow] {
    try store.dumpAllTables().map { TableRow(table: $0.table, key: $0.key, value: $0.value) }
  }

  @Test func secondDownloadLinksKeptSSTsAndOpensWithTheLeadersTables() async throws {
    let fixture = try CheckpointFixture(volumes: 20)
    let port = try await fixture.start()
    let first = try await CheckpointDownloader(configuration: configuration(fixture, port: port, name: "first")).download()
    #expect(first.files.allSatisfy { $0.sent })
    fixture.addVolumes(21...30)
    let kept = fixture.directory.path + "/first"
    let second = try await CheckpointDownloader(configuration: configuration(fixture, port: port, name: "second", kept: kept))
      .download()
    await fixture.stop()
    #expect(TermIndex(term: second.term, index: second.index) == TermIndex(term: 3, index: 30))
    let linked = second.files.filter { !$0.sent }
    #expect(!linked.isEmpty)
    #expect(second.estimatedTransferBytes < second.files.reduce(0) { $0 + $1.sizeBytes })
    for file in linked {
      let attributes = try FileManager.default.attributesOfItem(atPath: fixture.directory.path + "/second/" + file.name)
      #expect((attributes[.referenceCount] as? NSNumber)?.intValue ?? 0 >= 2, "\(file.name) should be a hard link")
    }
    let copy = try OMMetadataStore.open(path: fixture.directory.path + "/second")
    defer { copy.close() }
    #expect(try copy.transactionInfo() == TermIndex(term: 3, index: 30))
    #expect(try rows(copy) == rows(fixture.store))
    #expect(fixture.temporaryCheckpoints.isEmpty)
  }

  /// Every replica numbers its own RocksDB files, so a kept SST of the same name usually holds
  /// other data: the leader must send it anyway (it matches on size and CRC-32C, not the name).
  @Test func aKeptSSTWithOtherContentsIsSentAgain() async throws {
    let fixture = try CheckpointFixture(volumes: 5)
    let port = try await fixture.start()
    let kept = fixture.directory.path + "/impostor"
    let reference = try await CheckpointDownloader(configuration: configuration(fixture, port: port, name: "reference")).download()
    try FileManager.default.copyItem(atPath: fixture.directory.path + "/reference", toPath: kept)
    let sst = try #require(reference.files.first { $0.name.hasSuffix(".sst") && $0.sizeBytes > 0 })
    var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: kept + "/" + sst.name)))
    bytes[bytes.count / 2] ^= 0xFF
    try Data(bytes).write(to: URL(fileURLWithPath: kept + "/" + sst.name))
    let manifest = try await CheckpointDownloader(configuration: configuration(fixture, port: port, name: "candidate", kept: kept)).download()
    await fixture.stop()
    #expect(manifest.files.first { $0.name == sst.name }?.sent == true, "the altered file is sent")
    #expect(manifest.files.filter { $0.name.hasSuffix(".sst") && $0.name != sst.name }.allSatisfy { !$0.sent },
      "the matching files are not")
    let received = try Data(contentsOf: URL(fileURLWithPath: fixture.directory.path + "/candidate/" + sst.name))
    let original = try Data(contentsOf: URL(fileURLWithPath: fixture.directory.path + "/reference/" + sst.name))
    #expect(received == original)
  }

  @Test func tooLittleFreeSpaceStopsBeforeAnythingIsWritten() async throws {
    let fixture = try CheckpointFixture(volumes: 5)
    let port = try await fixture.start()
    var settings = configuration(fixture, port: port, name: "candidate")
    settings.freeBytes = { _ in 1024 }
    let failure = await #expect(throws: OMCheckpointError.self) {
      try await CheckpointDownloader(configuration: settings).download()
    }
    await fixture.stop()
    #expect(failure?.code == .insufficientSpace)
    #expect(!FileManager.default.fileExists(atPath: fixture.directory.path + "/candidate"))
  }

  @Test func refusalsBecomeErrorsACallerCanActOn() async throws {
    let fixture = try CheckpointFixture(volumes: 1)
    let follower = try await fixture.start(token: "right", leadership: .notLeader(leaderAddress: "om3.example:9874"))
    let notLeader = await #expect(throws: OMCheckpointError.self) {
      try await CheckpointDownloader(configuration: configuration(fixture, port: follower, name: "a", token: "right")).download()
    }
    let forbidden = await #expect(throws: OMCheckpointError.self) {
      try await CheckpointDownloader(configuration: configuration(fixture, port: follower, name: "b", token: "wrong")).download()
    }
    await fixture.stop()
    #expect(notLeader?.code == .notLeader)
    #expect(notLeader?.leaderAddress == "om3.example:9874")
    #expect(forbidden?.code == .forbidden)
  }

  @Test func progressTellsTheManifestThenTheBytesWritten() async throws {
    let fixture = try CheckpointFixture(volumes: 20)
    let port = try await fixture.start()
    let events = Mutex<[CheckpointDownloader.Progress]>([])
    var settings = configuration(fixture, port: port, name: "candidate")
    settings.progress = { progress in events.withLock { $0.append(progress) } }
    let manifest = try await CheckpointDownloader(configuration: settings).download()
    await fixture.stop()
    let seen = events.withLock { $0 }
    #expect(
      seen.first
        == .started(
          termIndex: TermIndex(term: 3, index: 20), fetchBytes: manifest.estimatedTransferBytes, keptBytes: 0,
          fileCount: manifest.files.count))
    let received = seen.compactMap { event -> UInt64? in
      if case .received(let bytes) = event { return bytes }
      return nil
    }
    #expect(received.count > 1, "a 300 KB checkpoint arrives in several pieces")
    #expect(received == received.sorted())
    #expect(received.last == manifest.estimatedTransferBytes)
  }

  @Test func aConnectionCutHalfwayIsAConnectionFailureAndLeavesNoCandidate() async throws {
    let fixture = try CheckpointFixture(volumes: 20)
    let port = try await fixture.start()
    let proxy = TCPProxy(targetPort: port)
    let proxyPort = try await proxy.start()
    proxy.cutNextResponse(afterBytes: 100_000)
    let failure = await #expect(throws: OMCheckpointError.self) {
      try await CheckpointDownloader(configuration: configuration(fixture, port: proxyPort, name: "candidate")).download()
    }
    await proxy.stop()
    await fixture.stop()
    #expect(failure?.code == .connectionLost)
    #expect(proxy.cutCount == 1)
    #expect(!FileManager.default.fileExists(atPath: fixture.directory.path + "/candidate"))
  }

  @Test func aDiskFillingUpWhileWritingIsASpaceFailureAndLeavesNoCandidate() async throws {
    let fixture = try CheckpointFixture(volumes: 5)
    let port = try await fixture.start()
    var settings = configuration(fixture, port: port, name: "candidate")
    settings.fileChunkHook = { _, _ in throw POSIXError(.ENOSPC) }
    let failure = await #expect(throws: OMCheckpointError.self) {
      try await CheckpointDownloader(configuration: settings).download()
    }
    await fixture.stop()
    #expect(failure?.code == .insufficientSpace)
    #expect(failure?.message.hasPrefix("the disk filled up: cannot write ") == true)
    #expect(!FileManager.default.fileExists(atPath: fixture.directory.path + "/candidate"))
  }

  @Test func leadershipMovingAwayAbandonsTheDownload() async throws {
    let fixture = try CheckpointFixture(volumes: 5)
    let port = try await fixture.start()
    var settings = configuration(fixture, port: port, name: "candidate")
    settings.leadershipCheck = { false }
    let failure = await #expect(throws: OMCheckpointError.self) {
      try await CheckpointDownloader(configuration: settings).download()
    }
    await fixture.stop()
    #expect(failure?.code == .leaderChanged)
    #expect(!FileManager.default.fileExists(atPath: fixture.directory.path + "/candidate"))
  }

  /// The leader sends at most `maxConcurrentTransfers` checkpoints at once; one more asks again later.
  @Test func aLeaderAlreadySendingItsLimitAnswersBusy() async throws {
    let fixture = try CheckpointFixture(volumes: 5)
    let port = try await fixture.start(maxConcurrentTransfers: 1)
    let gate = TransferGate()
    var held = configuration(fixture, port: port, name: "held")
    held.leadershipCheck = {
      await gate.pass()
      return true
    }
    let first = Task { [held] in try await CheckpointDownloader(configuration: held).download() }
    let deadline = Date().addingTimeInterval(60)
    while !(await gate.isHolding) {
      guard Date() < deadline else { throw OMProcessTimeout(what: "the first transfer to start") }
      try await Task.sleep(for: .milliseconds(10))
    }
    let failure = await #expect(throws: OMCheckpointError.self) {
      try await CheckpointDownloader(configuration: configuration(fixture, port: port, name: "second")).download()
    }
    await gate.open()
    let manifest = try await first.value
    await fixture.stop()
    #expect(failure?.code == .busy)
    #expect(OMCheckpointInstallMetrics.FailureReason.of(failure!) == .refused)
    #expect(TermIndex(term: manifest.term, index: manifest.index) == TermIndex(term: 3, index: 5))
  }
}
