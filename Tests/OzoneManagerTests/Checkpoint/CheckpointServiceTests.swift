import Foundation
import OMMetadata
import OzoneManager
import O3TestSupport
import Testing

/// `/v2/dbCheckpoint` against a real OM database with flushed data, over HTTP.
@Suite(.watchdog) struct CheckpointServiceTests {
  @Test func streamCarriesManifestFilesAndTermIndexAndRemovesItsCheckpoint() async throws {
    let fixture = try CheckpointFixture()
    let port = try await fixture.start()
    let reply = try await CheckpointHTTP.fetch(port: port)
    await fixture.stop()
    #expect(reply.status == 200)
    #expect(reply.headers["content-type"] == "application/x-tar")
    let parsed = try ParsedCheckpoint(reply.body)
    let flushed = try fixture.store.transactionInfo()
    #expect(flushed == TermIndex(term: 3, index: 100))
    #expect(parsed.manifest.term == flushed.term && parsed.manifest.index == flushed.index)
    #expect(reply.headers[OMCheckpointService.termIndexHeader.lowercased()] == "3#100")
    #expect(parsed.manifest.files.allSatisfy { $0.sent })
    #expect(parsed.files.map(\.name) == parsed.manifest.files.map(\.name))
    #expect(parsed.manifest.files.contains { $0.name == "CURRENT" })
    #expect(parsed.manifest.files.contains { $0.name.hasSuffix(".sst") && $0.sizeBytes > UInt64(OMCheckpointFiles.chunkBytes) })
    for (file, entry) in zip(parsed.manifest.files, parsed.files) {
      #expect(UInt64(entry.bytes.count) == file.sizeBytes, "\(file.name)")
      #expect(OMCheckpointFiles.checksum(entry.bytes) == file.crc32c, "\(file.name)")
    }
    let total = parsed.manifest.files.reduce(UInt64(0)) { $0 + $1.sizeBytes }
    #expect(parsed.manifest.estimatedTransferBytes == total)
    #expect(reply.headers[OMCheckpointService.estimatedBytesHeader.lowercased()] == "\(total)")
    #expect(fixture.temporaryCheckpoints.isEmpty)
    #expect(fixture.fatalErrors.recorded.isEmpty)
  }

  @Test func receivedCheckpointOpensWithTheSameTables() async throws {
    let fixture = try CheckpointFixture(volumes: 20)
    let port = try await fixture.start()
    let reply = try await CheckpointHTTP.fetch(port: port)
    await fixture.stop()
    let parsed = try ParsedCheckpoint(reply.body)
    let received = fixture.directory.path + "/received.db"
    try FileManager.default.createDirectory(atPath: received, withIntermediateDirectories: false)
    for file in parsed.files {
      #expect(FileManager.default.createFile(atPath: received + "/" + file.name, contents: Data(file.bytes)))
    }
    let copy = try OMMetadataStore.open(path: received)
    defer { copy.close() }
    let expected = try fixture.store.dumpAllTables().map { TableRow(table: $0.table, key: $0.key, value: $0.value) }
    let actual = try copy.dumpAllTables().map { TableRow(table: $0.table, key: $0.key, value: $0.value) }
    #expect(!expected.isEmpty)
    #expect(actual == expected)
    #expect(try copy.transactionInfo() == TermIndex(term: 3, index: 20))
  }

  @Test func sstFilesTheFollowerHoldsAreListedButNotSent() async throws {
    let fixture = try CheckpointFixture(volumes: 20)
    let port = try await fixture.start()
    let full = try ParsedCheckpoint(try await CheckpointHTTP.fetch(port: port).body)
    let ssts = full.manifest.files.filter { $0.name.hasSuffix(".sst") }.map(\.name)
    try #require(ssts.count >= 2)
    let body = try JSONEncoder().encode(["excludeSST": [ssts[0], "CURRENT", "../etc/passwd.sst"]])
    let posted = try await CheckpointHTTP.fetch(port: port, method: "POST", body: body)
    let queried = try await CheckpointHTTP.fetch(port: port, query: "?toExcludeSST=\(ssts[1])")
    await fixture.stop()
    #expect(posted.status == 200 && queried.status == 200)
    let withoutFirst = try ParsedCheckpoint(posted.body)
    #expect(withoutFirst.manifest.files.map(\.name) == full.manifest.files.map(\.name))
    #expect(withoutFirst.manifest.files.filter { !$0.sent }.map(\.name) == [ssts[0]])
    #expect(!withoutFirst.files.contains { $0.name == ssts[0] })
    #expect(withoutFirst.files.contains { $0.name == "CURRENT" })
    let excludedBytes = try #require(full.manifest.files.first { $0.name == ssts[0] }).sizeBytes
    #expect(withoutFirst.manifest.estimatedTransferBytes == full.manifest.estimatedTransferBytes - excludedBytes)
    let withoutSecond = try ParsedCheckpoint(queried.body)
    #expect(withoutSecond.manifest.files.filter { !$0.sent }.map(\.name) == [ssts[1]])
    #expect(!withoutSecond.files.contains { $0.name == ssts[1] })
    #expect(fixture.temporaryCheckpoints.isEmpty)
  }

  @Test func peersWithoutTheTokenAreRefused() async throws {
    let fixture = try CheckpointFixture(volumes: 2)
    let port = try await fixture.start(token: "s3cret")
    let missing = try await CheckpointHTTP.fetch(port: port)
    let wrong = try await CheckpointHTTP.fetch(port: port, headers: [OMCheckpointService.tokenHeader: "s3creT"])
    let shorter = try await CheckpointHTTP.fetch(port: port, headers: [OMCheckpointService.tokenHeader: "s3cre"])
    let right = try await CheckpointHTTP.fetch(port: port, headers: [OMCheckpointService.tokenHeader: "s3cret"])
    await fixture.stop()
    #expect(missing.status == 403 && wrong.status == 403 && shorter.status == 403)
    #expect(right.status == 200)
    #expect(try ParsedCheckpoint(right.body).manifest.index == 2)
    #expect(fixture.temporaryCheckpoints.isEmpty)
  }

  @Test func nonLeaderAnswers503WithTheLeadersAddress() async throws {
    let fixture = try CheckpointFixture(volumes: 1)
    let port = try await fixture.start(leadership: .notLeader(leaderAddress: "om2.example:9874"))
    let reply = try await CheckpointHTTP.fetch(port: port)
    await fixture.stop()
    #expect(reply.status == 503)
    #expect(reply.headers[OMCheckpointService.leaderAddressHeader.lowercased()] == "om2.example:9874")
    #expect(fixture.temporaryCheckpoints.isEmpty)
  }

  @Test func strangerIsRefusedBeforeLeadershipIsRevealed() async throws {
    let fixture = try CheckpointFixture(volumes: 1)
    let port = try await fixture.start(token: "t", leadership: .notLeader(leaderAddress: "om2.example:9874"))
    let reply = try await CheckpointHTTP.fetch(port: port)
    await fixture.stop()
    #expect(reply.status == 403)
    #expect(reply.headers[OMCheckpointService.leaderAddressHeader.lowercased()] == nil)
  }

  @Test func malformedExclusionBodyIsABadRequest() async throws {
    let fixture = try CheckpointFixture(volumes: 1)
    let port = try await fixture.start()
    let reply = try await CheckpointHTTP.fetch(port: port, method: "POST", body: Data("not json".utf8))
    await fixture.stop()
    #expect(reply.status == 400)
    #expect(fixture.temporaryCheckpoints.isEmpty)
  }
}
