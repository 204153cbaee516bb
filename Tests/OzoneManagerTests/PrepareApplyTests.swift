import Foundation
import Logging
import O3Common
import OMDomain
import OMMetadata
import OMProto
import OzoneManager
import O3TestSupport
import Testing

/// Prepare and CancelPrepare on the apply path alone (no network, no Raft): what every replica
/// decides for the entries around them, and the state a restart reads back from om.db.
@Suite(.watchdog, .ownThreads) struct PrepareApplyTests {
  static func prepare() -> OMRequest {
    var body = PrepareRequest()
    body.args.txnApplyWaitTimeoutSeconds = 120
    return Requests.envelope(.prepare, .prepareRequest(body))
  }

  static let cancel = Requests.envelope(.cancelPrepare, .cancelPrepareRequest(CancelPrepareRequest()))

  @Test("after a Prepare every write is refused the same way until a CancelPrepare; reads still work")
  func gateOnApply() throws {
    let harness = try OMHarness()
    try harness.succeed(Requests.createVolume("before"))
    let prepared = try harness.succeed(Self.prepare())
    #expect(prepared.prepareResponse.txnID == harness.lastIndex)
    #expect(harness.doubleBuffer.flushedTermIndex.index >= harness.lastIndex, "Prepare waits for the flush")
    #expect(harness.stateMachine.prepareState.status == (.prepareCompleted, harness.lastIndex))

    let refused = try harness.submit(Requests.createVolume("during"))
    #expect(refused.status == .notSupportedOperationWhenPrepared)
    #expect(refused.message.contains("prepare mode") && refused.message.contains("o3 admin om cancelprepare"))
    #expect(try harness.volume("during") == nil)
    #expect(try harness.submit(Requests.infoVolume("before")).status == .ok, "reads are served")
    #expect(try harness.submit(Self.prepare()).status == .ok, "Prepare may be repeated")

    #expect(try harness.submit(Self.cancel).status == .ok)
    #expect(harness.stateMachine.prepareState.status == (.notPrepared, 0))
    #expect(try harness.submit(Requests.createVolume("after")).status == .ok)
  }

  @Test("the prepared index is in om.db: a restart reads it back and puts the marker file right")
  func restoredFromTheDatabase() throws {
    let harness = try OMHarness()
    let storage = try OMStorage(configuration: OzoneConfiguration([OzoneConfigKeys.metadataDirs: harness.directory.path]))
    let marker = OMPrepareState.markerPath(storage)
    let logger = Logger(label: "prepare-test")
    #expect(try OMPrepareState.restore(from: harness.store, storage: storage, logger: logger).preparedIndex == nil)

    let index = try harness.succeed(Self.prepare()).prepareResponse.txnID
    harness.doubleBuffer.awaitFlush()
    // A crash between the flush and the marker write: no marker, but om.db says prepared.
    try? FileManager.default.removeItem(atPath: marker)
    let restored = try OMPrepareState.restore(from: harness.store, storage: storage, logger: logger)
    #expect(restored.status == (.prepareCompleted, index))
    #expect(try String(contentsOfFile: marker, encoding: .utf8) == "\(index)", "Ozone's marker: the index as text")

    try harness.succeed(Self.cancel)
    harness.doubleBuffer.awaitFlush()
    // The marker outlived the cancel (a crash before it was removed): om.db wins.
    let afterCancel = try OMPrepareState.restore(from: harness.store, storage: storage, logger: logger)
    #expect(afterCancel.status == (.notPrepared, 0))
    #expect(!FileManager.default.fileExists(atPath: marker))
  }

  @Test("Prepare arguments are checked on the leader")
  func arguments() throws {
    let harness = try OMHarness()
    var body = PrepareRequest()
    body.args.txnApplyWaitTimeoutSeconds = 10_000_000
    let response = try harness.submit(Requests.envelope(.prepare, .prepareRequest(body)))
    #expect(response.status == .invalidRequest)
    #expect(harness.stateMachine.prepareState.status == (.notPrepared, 0))
  }
}
