import Foundation
import OMMetadata
import OzoneManager
import Synchronization
import O3TestSupport
import Testing

/// Every way a follower's checkpoint install can fail, injected into a real three-OM cluster:
/// the old database keeps serving, the failure is logged on one line with its reason and
/// counted on `/prom`, and Raft's next notice retries until the install succeeds. Each case is
/// one failure of docs/snapshot-installation.md.
@Suite(.watchdog, .serialized) struct CheckpointInstallFaultTests {
  /// A fault a test plants in the follower's downloads, and what it must produce.
  enum Fault: String, CaseIterable, CustomTestStringConvertible, Sendable {
    /// The free-space probe reports 1 KiB: refused before a byte is written.
    case diskSpaceProbe
    /// Writing a received file fails with ENOSPC.
    case diskFullWhileWriting
    /// A byte of every received file chunk is flipped.
    case corruptByte
    /// The proxy between follower and leader cuts each transfer after 4 KiB.
    case connectionCut
    /// The follower sends the wrong `ozone.om.checkpoint.token`: the leader answers 403.
    case wrongToken
    /// The follower asks an OM that is not the leader: it answers 503.
    case notTheLeader

    var testDescription: String { rawValue }

    var reason: OMCheckpointInstallMetrics.FailureReason {
      switch self {
      case .diskSpaceProbe, .diskFullWhileWriting: .diskSpace
      case .corruptByte: .checksum
      case .connectionCut: .connection
      case .wrongToken: .refused
      case .notTheLeader: .leaderChanged
      }
    }

    /// Words of the failure's log line after `failed [reason=...]: `, as the documentation quotes them.
    var logText: String {
      switch self {
      case .diskSpaceProbe: "not enough free space in "
      case .diskFullWhileWriting: "the disk filled up: cannot write "
      case .corruptByte: "with CRC-32C"
      case .connectionCut: "before the checkpoint ended"
      case .wrongToken: "the leader refused this OM: only the OMs of this service may fetch a checkpoint"
      case .notTheLeader: "the OM asked is not the leader: this OM is not the leader"
      }
    }
  }

  /// Whether the planted fault is still in force.
  final class FaultSwitch: Sendable {
    private let on = Atomic<Bool>(true)
    var isOn: Bool { on.load(ordering: .acquiring) }
    func turnOff() { on.store(false, ordering: .releasing) }
  }

  @Test(arguments: Fault.allCases)
  func aFailedInstallLeavesTheOldDatabaseServingAndARetrySucceeds(_ fault: Fault) async throws {
    let scenario = try await BehindFollower.make(httpProxies: fault == .connectionCut)
    let cluster = scenario.cluster
    let switchedOn = FaultSwitch()
    let otherHTTPPort = cluster.servers[scenario.other]!.httpPort
    let proxy = fault == .connectionCut ? cluster.httpProxy(from: scenario.follower, to: scenario.leader) : nil
    cluster.checkpointDownloadAdjustments[scenario.follower] = { configuration in
      guard switchedOn.isOn else { return }
      switch fault {
      case .diskSpaceProbe: configuration.freeBytes = { _ in 1024 }
      case .diskFullWhileWriting: configuration.fileChunkHook = { _, _ in throw POSIXError(.ENOSPC) }
      case .corruptByte: configuration.fileChunkHook = { _, chunk in chunk[chunk.count / 2] ^= 0x5A }
      case .connectionCut: proxy?.cutNextResponse(afterBytes: 4096)
      case .wrongToken: configuration.token = "not-the-token"
      case .notTheLeader: configuration.leaderPort = otherHTTPPort
      }
    }
    let recorder = LogRecorder()
    cluster.logRecorders[scenario.follower] = recorder
    try await cluster.start(scenario.follower)

    try await cluster.waitUntil("the follower's install fails with reason \(fault.reason.rawValue)") {
      scenario.installs.failureCount(fault.reason) > 0
    }
    let store = scenario.followerServer.store
    #expect(try store.volumeTable.get(OMKeys.volume("before")) != nil, "the old database serves what it held")
    #expect(try store.transactionInfo().index >= scenario.followerPosition.index)
    #expect(try store.volumeTable.get(OMKeys.volume("volume150")) == nil, "nothing was installed")
    #expect(scenario.followerServer.installedCheckpointCount == 0)
    let page = try await scenario.metricsPage()
    #expect(page.contains("o3_om_checkpoint_install_failures_total{reason=\"\(fault.reason.rawValue)\"} "))
    #expect(!page.contains("o3_om_checkpoint_install_failures_total{reason=\"\(fault.reason.rawValue)\"} 0\n"))
    // The failed attempt left the database at the term#index it started from.
    let lines = recorder.recorded
    let failure = try #require(lines.firstIndex { $0.contains("failed [reason=\(fault.reason.rawValue)]: ") })
    #expect(lines[failure].hasPrefix("WARNING checkpoint install from \(scenario.leader) failed") && lines[failure].contains(fault.logText))
    let started = try #require(lines[..<failure].last { $0.contains("checkpoint install from \(scenario.leader) started: ") })
    let startedAt = try #require(started.components(separatedBy: "this OM is at ").last?.components(separatedBy: ",").first)
    #expect(lines[failure].hasSuffix("The old database keeps serving at \(startedAt); Raft retries when the leader notifies again"))

    switchedOn.turnOff()
    try await scenario.waitForInstall()
    #expect(try scenario.leftovers().isEmpty, "no candidate and no old database are left")
    #expect(try scenario.followerServer.store.volumeTable.get(OMKeys.volume("volume150")) != nil)
    #expect(!recorder.lines(containing: "checkpoint install from \(scenario.leader) finished: installed ").isEmpty)
    #expect(cluster.fatalErrors.recorded.isEmpty)
    await cluster.shutdown()
  }

  /// Leadership moves while the follower downloads: the download is abandoned (the leader that
  /// sent it is no longer the one the follower follows), and the new leader's notice brings the
  /// checkpoint from the new leader.
  @Test func aLeaderChangeMidTransferRestartsTheInstallFromTheNewLeader() async throws {
    let scenario = try await BehindFollower.make()
    let cluster = scenario.cluster
    let gate = TransferGate()
    cluster.checkpointDownloadAdjustments[scenario.follower] = { configuration in
      let leadershipCheck = configuration.leadershipCheck
      configuration.leadershipCheck = {
        await gate.pass()
        return await leadershipCheck?() ?? true
      }
    }
    let recorder = LogRecorder()
    cluster.logRecorders[scenario.follower] = recorder
    try await cluster.start(scenario.follower)
    try await cluster.waitUntil("the follower's download has started") { await gate.isHolding }
    #expect(scenario.installs.current?.leaderId == scenario.leader, "the install under way shows on the status")
    #expect(await scenario.followerServer.status()?.checkpointInstall?.leaderId == scenario.leader)
    let statusPage = try await CheckpointHTTP.fetch(port: scenario.followerServer.httpPort, path: "/")
    #expect(String(decoding: statusPage.body, as: UTF8.self).contains("installing checkpoint from \(scenario.leader), 0/"))
    #expect(try await scenario.metricsPage().contains("o3_om_checkpoint_install_in_progress 1.0\n"))

    let newLeader = OMServiceConfiguration.peerID(of: scenario.other)
    try await cluster.servers[scenario.leader]!.raft.transferLeadership(to: newLeader)
    try await cluster.waitUntil("the follower follows the new leader") {
      await scenario.followerServer.raft.status()?.core.leader == newLeader
    }
    await gate.open()
    try await cluster.waitUntil("the download from the old leader is abandoned") {
      scenario.installs.failureCount(.leaderChanged) > 0
    }
    let lines = recorder.recorded
    let failure = try #require(
      lines.firstIndex { $0.contains("checkpoint install from \(scenario.leader) failed [reason=leader_changed]: leadership moved away") })
    let started = try #require(lines[..<failure].last { $0.contains("checkpoint install from \(scenario.leader) started: ") })
    let startedAt = try #require(started.components(separatedBy: "this OM is at ").last?.components(separatedBy: ",").first)
    #expect(lines[failure].hasSuffix("The old database keeps serving at \(startedAt); Raft retries when the leader notifies again"))
    try await scenario.waitForInstall(from: scenario.other)
    #expect(!recorder.lines(containing: "checkpoint install from \(scenario.other) finished: installed ").isEmpty)
    #expect(scenario.installs.current == nil)
    #expect(try scenario.leftovers().isEmpty)
    #expect(cluster.fatalErrors.recorded.isEmpty)
    await cluster.shutdown()
  }
}

/// Holds the first download at its first leadership check until the test opens it; later
/// checks pass straight through.
actor TransferGate {
  private var waiting: CheckedContinuation<Void, Never>?
  private var opened = false

  var isHolding: Bool { waiting != nil }

  func pass() async {
    guard !opened else { return }
    await withCheckedContinuation { waiting = $0 }
  }

  func open() {
    opened = true
    waiting?.resume()
    waiting = nil
  }
}
