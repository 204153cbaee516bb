import Foundation
import LogPosition
import O3Common
import O3TestSupport
import SCMDomain
import SCMMetadata
import SCMProto
import StorageContainerManager
import Testing

/// A fresh directory for one test, removed by the caller.
func temporaryDirectory(_ label: String) throws -> String {
  let path = FileManager.default.temporaryDirectory.appendingPathComponent("o3-\(label)-\(UUID().uuidString)").path
  try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  return path
}

/// `o3 scm --init`'s storage: Ozone's VERSION file and an empty scm.db.
@Suite(.watchdog, .ownThreads) struct SCMStorageTests {
  @Test func initWritesVersionAndDatabaseAndRefusesASecondTime() throws {
    let directory = try temporaryDirectory("scm-storage")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let storage = try SCMStorage(configuration: OzoneConfiguration(["ozone.metadata.dirs": directory]))
    #expect(throws: SCMMetadataError.self) { try storage.readVersion() }
    let version = try storage.initializeBlocking()
    #expect(version.clusterID.hasPrefix("CID-"))
    let text = try String(contentsOfFile: "\(directory)/scm/current/VERSION", encoding: .utf8)
    for field in ["nodeType=SCM", "clusterID=\(version.clusterID)", "scmUuid=\(version.scmID)", "scmHA=true", "layoutVersion=1"] {
      #expect(text.contains(field), "VERSION has \(field): \(text)")
    }
    #expect(try storage.readVersion() == version)
    #expect(FileManager.default.fileExists(atPath: "\(directory)/scm.db/CURRENT"))
    let again = #expect(throws: SCMMetadataError.self) { try storage.initializeBlocking() }
    #expect(again?.code == .alreadyInitialized)
    #expect(try storage.readVersion() == version, "the refused init changed nothing")
  }

  @Test func aClusterIDThatIsNotAUUIDIsRefusedAndNothingIsCreated() throws {
    let directory = try temporaryDirectory("scm-storage")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let storage = try SCMStorage(
      configuration: OzoneConfiguration(["ozone.metadata.dirs": directory, "ozone.scm.db.dirs": "\(directory)/db"]))
    #expect(throws: ConfigurationError.self) { try storage.initializeBlocking(clusterID: "CID-not-a-uuid") }
    #expect(!FileManager.default.fileExists(atPath: "\(directory)/db"))
    let chosen = UUID().uuidString.lowercased()
    #expect(try storage.initializeBlocking(clusterID: chosen).clusterID == chosen)
    #expect(FileManager.default.fileExists(atPath: "\(directory)/db/scm/current/VERSION"), "ozone.scm.db.dirs holds VERSION and scm.db")
    #expect(FileManager.default.fileExists(atPath: "\(directory)/db/scm.db/CURRENT"))
  }

  @Test func withoutMetadataDirsTheKeyIsNamed() {
    let error = #expect(throws: ConfigurationError.self) { try SCMStorage(configuration: OzoneConfiguration()) }
    #expect(error?.key == "ozone.metadata.dirs")
  }
}

/// The replicated state: Ozone's allocateBatch compare-and-swap, applied and persisted.
@Suite(.watchdog, .ownThreads) struct SCMStateMachineTests {
  private func batch(_ name: String, from expected: UInt64, to new: UInt64) throws -> [UInt8] {
    var request = SCMRatisRequest()
    request.allocateBatch.sequenceName = name
    request.allocateBatch.expectedLastID = expected
    request.allocateBatch.newLastID = new
    return try request.serializedBytes()
  }

  @Test func allocateBatchSwapsOnlyFromTheExpectedValueAndSurvivesAReopen() throws {
    let directory = try temporaryDirectory("scm-state")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let path = "\(directory)/scm.db"
    try SCMMetadataStore.initialize(path: path)
    var store = try SCMMetadataStore.open(path: path)
    var machine = try SCMStateMachine(store: store)
    #expect(machine.lastID(.localId) == 0 && machine.applied == .zero)

    let first = try machine.apply(try batch("localId", from: 0, to: 1000), at: TermIndex(term: 1, index: 3))
    #expect(first.status == .ok && first.swapped)
    #expect(machine.lastID(.localId) == 1000)
    let stale = try machine.apply(try batch("localId", from: 0, to: 1000), at: TermIndex(term: 1, index: 4))
    #expect(stale.status == .ok && !stale.swapped, "a second proposer with the old value loses: \(stale.message)")
    #expect(machine.lastID(.localId) == 1000)
    let unknown = try machine.apply(try batch("noSuchSequence", from: 0, to: 5), at: TermIndex(term: 1, index: 5))
    #expect(unknown.status == .unsupportedOperation)
    let backwards = try machine.apply(try batch("containerId", from: 0, to: 0), at: TermIndex(term: 1, index: 6))
    #expect(backwards.status == .internalError)
    let garbage = try machine.apply([0xFF, 0xFF, 0xFF], at: TermIndex(term: 2, index: 7))
    #expect(garbage.status == .internalError)
    try machine.skip(at: TermIndex(term: 2, index: 8))
    #expect(machine.lastID(.containerId) == 0, "refusals changed nothing")
    store.close()

    store = try SCMMetadataStore.open(path: path)
    machine = try SCMStateMachine(store: store)
    #expect(machine.lastID(.localId) == 1000, "the swap is in scm.db")
    #expect(machine.applied == TermIndex(term: 2, index: 8), "and so is the position of the last entry")
    store.close()
  }
}
