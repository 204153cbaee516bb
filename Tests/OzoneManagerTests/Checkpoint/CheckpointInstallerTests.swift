import Foundation
import NIOPosix
import O3Common
@testable import OMMetadata
import OMProto
@testable import OzoneManager
import O3TestSupport
import Prometheus
import Testing

/// The installer on its own, with the leader's endpoint over a `CheckpointFixture` (at 3#30):
/// the decisions taken before any byte is downloaded.
@Suite(.watchdog, .ownThreads) struct CheckpointInstallerTests {
  /// The follower: a database with a recorded membership at `index` (term 3).
  private final class Follower {
    let harness: OMHarness
    let installer: OMCheckpointInstaller
    let recorder = LogRecorder()

    init(index: UInt64, leaderHTTPPort: Int, _ label: String = #function) throws {
      harness = try OMHarness(label)
      var part = OMBatchPart()
      part.meta = [TableChange(key: OMRaftMembershipRecord.key, value: Self.membershipRecord)]
      var volume = VolumeInfo()
      volume.volume = "before"
      part.volumes = [TableChange(key: OMKeys.volume("before"), value: volume)]
      harness.store.applyToCache(part, epoch: index)
      harness.doubleBuffer.add(part, termIndex: TermIndex(term: 3, index: index))
      harness.doubleBuffer.awaitFlush()
      let service = try OMServiceConfiguration(
        configuration: OzoneConfiguration([
          "ozone.om.service.ids": "svc", "ozone.om.nodes.svc": "om1,om2", "ozone.om.node.id": "om2",
          "ozone.om.address.svc.om1": "127.0.0.1:1", "ozone.om.address.svc.om2": "127.0.0.1:2",
          "ozone.om.http-address.svc.om1": "127.0.0.1:\(leaderHTTPPort)",
        ]))
      installer = OMCheckpointInstaller(
        service: service, token: nil, store: harness.store, doubleBuffer: harness.doubleBuffer,
        group: MultiThreadedEventLoopGroup.singleton, logger: recorder.logger(label: "om2", printing: false),
        onFatalError: harness.fatalErrors.handler)
    }

    /// The record of voters om1 and om2 as OMRaftMembershipRecord lays it out (format byte,
    /// big-endian counts and peer numbers), built by hand so that a change of layout shows.
    static let membershipRecord: [UInt8] = {
      func bigEndian(_ value: UInt64, width: Int) -> [UInt8] {
        (0..<width).reversed().map { UInt8(truncatingIfNeeded: value >> UInt64(8 * $0)) }
      }
      let voters = ["om1", "om2"].map { OMServiceConfiguration.peerID(of: $0).rawValue }
      return [1] + bigEndian(2, width: 4) + voters.flatMap { bigEndian($0, width: 8) } + bigEndian(0, width: 4)
    }()
    static let leader = OMServiceConfiguration.peerID(of: "om1")

    var candidateExists: Bool { FileManager.default.fileExists(atPath: installer.candidateDirectory) }
  }

  /// After a crash between the swap and Raft recording the install, om.db stands past the
  /// leader's compaction point while the Raft log lags: the database is answered as installed.
  @Test func aDatabasePastTheLeadersCompactionPointNeedsNoDownload() async throws {
    // Port 1 on loopback: nothing listens, so any download attempt would fail.
    let follower = try Follower(index: 40, leaderHTTPPort: 1)
    let installed = try await follower.installer.install(from: Follower.leader, firstLogIndex: 41)
    #expect(installed.position == TermIndex(term: 3, index: 40))
    #expect(OMRaftMembershipRecord.encode(installed.membership) == Follower.membershipRecord)
    #expect(follower.installer.metrics.successCount == 0, "nothing was installed")
    #expect(!follower.recorder.lines(containing: "checkpoint install from om1 not needed: this OM's database is at 3/40").isEmpty)
  }

  @Test func aCheckpointNoNewerThanTheDatabaseIsRefusedBeforeDownloading() async throws {
    let fixture = try CheckpointFixture(volumes: 30)
    let port = try await fixture.start()
    let follower = try Follower(index: 40, leaderHTTPPort: port)
    let failure = await #expect(throws: OMCheckpointError.self) {
      try await follower.installer.install(from: Follower.leader, firstLogIndex: 100)
    }
    await fixture.stop()
    #expect(failure?.code == .notNewer)
    #expect(follower.installer.metrics.failureCount(.stale) == 1)
    #expect(follower.installer.metrics.current == nil)
    #expect(!follower.candidateExists)
    #expect(try follower.harness.store.transactionInfo() == TermIndex(term: 3, index: 40))
    #expect(try follower.harness.store.volumeTable.get(OMKeys.volume("before")) != nil)
    #expect(
      follower.recorder.lines(containing: "WARNING checkpoint install from om1 failed [reason=stale]: the leader's checkpoint is at 3/30, this OM already has 3/40.")
        .count == 1)
  }

  /// A checkpoint the follower can use is installed in place, and the metrics tell how much
  /// came over the network.
  @Test func aNewerCheckpointIsInstalledAndCounted() async throws {
    let fixture = try CheckpointFixture(volumes: 30)
    try fixture.recordMembership(Follower.membershipRecord, at: 31)
    let port = try await fixture.start()
    let follower = try Follower(index: 5, leaderHTTPPort: port)
    let installed = try await follower.installer.install(from: Follower.leader, firstLogIndex: 20)
    await fixture.stop()
    #expect(installed.position == TermIndex(term: 3, index: 31))
    #expect(OMRaftMembershipRecord.encode(installed.membership) == Follower.membershipRecord)
    #expect(follower.installer.metrics.successCount == 1)
    let page = follower.installer.metrics.registry.emitToString()
    #expect(page.contains("o3_om_checkpoint_installs_total 1\n"))
    #expect(page.contains("o3_om_checkpoint_install_in_progress 0.0\n"))
    #expect(page.contains("o3_om_checkpoint_install_failures_total{reason=\"disk_space\"} 0\n"))
    #expect(!page.contains("o3_om_checkpoint_install_received_bytes 0.0\n"))
    #expect(page.contains("o3_om_checkpoint_install_received_bytes "))
    #expect(try follower.harness.store.volumeTable.get(OMKeys.volume("vol30")) != nil)
    #expect(try follower.harness.store.volumeTable.get(OMKeys.volume("before")) == nil)
    #expect(!follower.candidateExists)
  }
}

/// A full disk is told apart from other write failures however Foundation wraps the errno.
@Test(.watchdog) func writeErrorsOfAFullDiskCountAsDiskSpace() {
  let full: [any Error] = [
    POSIXError(.ENOSPC), POSIXError(.EDQUOT), CocoaError(.fileWriteOutOfSpace),
    NSError(domain: NSPOSIXErrorDomain, code: Int(ENOSPC)),
    NSError(domain: NSCocoaErrorDomain, code: 0, userInfo: [NSUnderlyingErrorKey: POSIXError(.ENOSPC)]),
  ]
  for error in full {
    #expect(CheckpointLocalWriteError.classify(error, doing: "write x").code == .insufficientSpace, "\(error)")
  }
  let other = CheckpointLocalWriteError.classify(POSIXError(.EIO), doing: "write x")
  #expect(other.code == .localWriteFailed)
  #expect(OMCheckpointInstallMetrics.FailureReason.of(other) == .other)
}

extension CheckpointFixture {
  /// Records a Raft membership in metaTable at term 3, `index` (what a membership entry does).
  func recordMembership(_ record: [UInt8], at index: UInt64) throws {
    var part = OMBatchPart()
    part.meta = [TableChange(key: OMRaftMembershipRecord.key, value: record)]
    doubleBuffer.add(part, termIndex: TermIndex(term: 3, index: index))
    doubleBuffer.awaitFlush()
  }
}
