import Foundation
import O3TestSupport
import RaftSimulation
import Testing

/// Disk faults on real `o3 om` processes under the namespace workload (three OMs): a full Raft
/// log disk, a flipped byte in a stopped minority OM's closed segment, and a torn last record.
/// Each ends with the checks of ``FaultSession/finish(checking:)``.
@Suite(.watchdog, .serialized) struct DiskFaultTests {
  private let seed = FaultRunOptions.current.seed

  private func replay(_ test: String) -> String {
    "seed \(seed); replay: O3_FAULT_SEED=\(seed) swift test --filter FaultTests.DiskFaultTests/\(test)"
  }

  /// The leader's Raft log lives on a small tmpfs that is filled while clients write. The OM
  /// must stay up: it stops persisting and sending (so another OM leads and writes go on), says
  /// once which directory is full, and when space returns it catches up without a restart.
  /// Nothing may be lost or corrupted, and every replica ends with equal digests.
  @Test(.enabled(if: TmpfsMount.isPermitted, "mounting a tmpfs needs root or CAP_SYS_ADMIN"))
  func aFullRaftLogDiskStopsWritesAndRecoversOnceSpaceReturns() async throws {
    let mountRoot = FileManager.default.temporaryDirectory.appendingPathComponent("o3-faults-tmpfs-\(UUID().uuidString.prefix(8))").path
    var mounts: [String: TmpfsMount] = [:]
    defer {
      for mount in mounts.values { try? mount.unmount() }
      try? FileManager.default.removeItem(atPath: mountRoot)
    }
    for nodeID in ["om1", "om2", "om3"] {
      let path = "\(mountRoot)/\(nodeID)"
      try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
      mounts[nodeID] = try TmpfsMount.mount(at: path, sizeBytes: 32 << 20)
    }
    let cluster = try await OMFaultCluster.start(
      label: "diskfull", nodeCount: 3, clientCount: 3, seed: seed, raftLogDirectory: { "\(mountRoot)/\($0)/om.ratis" })
    defer { cluster.killAll() }
    let session = try await FaultSession.start(on: cluster, seed: seed)
    defer { session.workload.abandon() }
    try await session.waitForWrites(30, "before the disk fills")
    let full = try #require(await cluster.leader())
    let mount = try #require(mounts[full])
    let filler = "\(mount.path)/filler"
    try fill(filler, leaving: 16 << 10, on: mount)
    FaultLog.line("disk full: filled \(full)'s tmpfs; \(mount.freeBytes) bytes left")
    // Leader or follower, the OM keeps receiving entries: writing goes on until its log is full.
    let logDirectory = cluster.node(full).raftLogDirectory
    let stallLine = "Raft log directory \(logDirectory): No space left on device"
    try await waitForLog(of: full, in: cluster, toContain: stallLine, "\(full) reports its full Raft log disk")
    let newLeader = await waitForOtherLeader(than: full, in: cluster)
    #expect(newLeader != nil, "another OM leads while \(full)'s log disk is full")
    try await session.waitForWrites(30, "while \(full)'s log disk is full")
    #expect(cluster.isRunning(full), "\(full) stays up while its log disk is full")
    let stalledLog = omLog(full, in: cluster)
    #expect(stalledLog.components(separatedBy: stallLine).count == 2, "\(full) says once which directory is full")
    FaultLog.line("disk full: \(full) said: \(lines(of: stalledLog, containing: stallLine).joined())")

    try FileManager.default.removeItem(atPath: filler)
    FaultLog.line("disk full: freed \(full)'s tmpfs")
    try await session.waitForWrites(30, "after space returned")
    try await waitForLog(of: full, in: cluster, toContain: "the Raft log is writable again", "\(full) resumes")
    let verdict = await session.finish()
    #expect(verdict.problems.isEmpty, "\(replay(#function)): \(verdict.problems.joined(separator: "\n"))")
    let finalLog = omLog(full, in: cluster)
    FaultLog.line("disk full: \(full) said: \(lines(of: finalLog, containing: "the Raft log is writable again").joined())")
    let lives = finalLog.components(separatedBy: "=== start:").count - 1
    #expect(lives == 1, "\(full) caught up without a restart (started \(lives) times)")
    await cluster.shutDown(removeFiles: verdict.problems.isEmpty)
  }

  /// A follower is stopped, one byte of one of its closed segments flipped, and it is started
  /// again: it must refuse to start with an error naming the file, while the other two serve.
  @Test func aFlippedByteInAStoppedMinorityOMsClosedSegmentIsRefusedByName() async throws {
    let cluster = try await OMFaultCluster.start(
      label: "bitflip", nodeCount: 3, clientCount: 3, seed: seed, overrides: ["ozone.om.ratis.segment.size=32KB"])
    defer { cluster.killAll() }
    let session = try await FaultSession.start(on: cluster, seed: seed)
    defer { session.workload.abandon() }
    let leader = try #require(await cluster.leader())
    let victim = cluster.nodeIDs.first { $0 != leader }!
    let logDirectory = cluster.node(victim).raftLogDirectory
    try await waitUntil("\(victim) has two closed log segments", timeout: .seconds(180)) {
      SegmentFiles.closedSegments(in: logDirectory).count >= 2
    }
    #expect(await cluster.terminate(victim) == 0, "\(victim) stops cleanly")
    var random = SimulationRandom(seed: seed)
    let segment = random.element(of: SegmentFiles.closedSegments(in: logDirectory))
    let offset = try SegmentFiles.flipByte(in: segment, random: &random)
    FaultLog.line("bit flip: \(segment) offset \(offset)")
    try await cluster.launch(victim)
    let status = await cluster.process(victim)?.waitForExit(timeout: .seconds(120))
    #expect(status != nil && status != 0, "\(victim) refuses to start")
    let log = (try? String(contentsOfFile: cluster.node(victim).logFile, encoding: .utf8)) ?? ""
    let lastLife = log.components(separatedBy: "=== start:").last ?? ""
    #expect(lastLife.contains(segment), "the error names \(segment): \(lastLife.suffix(600))")
    #expect(lastLife.contains("corruptRecord"), "the error says the record is corrupt")
    try await session.waitForWrites(30, "with \(victim) refusing to start")
    let healthy = cluster.nodeIDs.filter { $0 != victim }
    let verdict = await session.finish(checking: healthy)
    #expect(verdict.problems.isEmpty, "\(replay(#function)): \(verdict.problems.joined(separator: "\n"))")
    await cluster.shutDown(removeFiles: verdict.problems.isEmpty)
  }

  /// An OM is killed and a torn record left after the last one of its open segment (a crash in
  /// the middle of a write that was never acknowledged): it must start, drop the torn record,
  /// and catch up with the others.
  @Test func aTornLastRecordIsTruncatedAndTheOMCatchesUp() async throws {
    let cluster = try await OMFaultCluster.start(label: "torn", nodeCount: 3, clientCount: 3, seed: seed)
    defer { cluster.killAll() }
    let session = try await FaultSession.start(on: cluster, seed: seed)
    defer { session.workload.abandon() }
    try await session.waitForWrites(40, "before the crash")
    var random = SimulationRandom(seed: seed)
    let victim = random.element(of: cluster.nodeIDs)
    await cluster.kill(victim)
    let segment = try #require(SegmentFiles.openSegment(in: cluster.node(victim).raftLogDirectory))
    let tornBytes = try SegmentFiles.appendTornRecord(to: segment, random: &random)
    FaultLog.line("torn record: \(tornBytes) bytes of a record appended to \(segment)")
    try await cluster.launch(victim)
    try await session.waitForWrites(30, "after \(victim) restarted")
    let verdict = await session.finish()
    let log = (try? String(contentsOfFile: cluster.node(victim).logFile, encoding: .utf8)) ?? ""
    #expect(log.contains("truncating a torn record"), "\(victim) reports the torn record it cut")
    #expect(verdict.problems.isEmpty, "\(replay(#function)): \(verdict.problems.joined(separator: "\n"))")
    await cluster.shutDown(removeFiles: verdict.problems.isEmpty)
  }

  /// Writes a file that takes all but `slackBytes` of the mount's free space.
  private func fill(_ path: String, leaving slackBytes: Int, on mount: TmpfsMount) throws {
    let size = max(mount.freeBytes - slackBytes, 0)
    _ = FileManager.default.createFile(atPath: path, contents: nil)
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    defer { try? handle.close() }
    let chunk = Data(count: 1 << 20)
    var written = 0
    while written < size {
      let part = min(chunk.count, size - written)
      try handle.write(contentsOf: chunk.prefix(part))
      written += part
    }
  }

  private func omLog(_ nodeID: String, in cluster: OMFaultCluster) -> String {
    (try? String(contentsOfFile: cluster.node(nodeID).logFile, encoding: .utf8)) ?? ""
  }

  private func lines(of log: String, containing text: String) -> [String] {
    log.split(separator: "\n").filter { $0.contains(text) }.map(String.init)
  }

  /// Polls the OM's log (a few times a second: it is read whole) until it holds `text`.
  private func waitForLog(of nodeID: String, in cluster: OMFaultCluster, toContain text: String, _ what: String)
    async throws
  {
    let deadline = ContinuousClock.now + .seconds(180)
    while !omLog(nodeID, in: cluster).contains(text) {
      guard ContinuousClock.now < deadline else { throw FaultTestFailure("\(what): not within 180 s") }
      try await Task.sleep(for: .milliseconds(250))
    }
  }

  private func waitForOtherLeader(than leader: String, in cluster: OMFaultCluster) async -> String? {
    let deadline = ContinuousClock.now + .seconds(120)
    while ContinuousClock.now < deadline {
      if let current = await cluster.leader(), current != leader { return current }
      try? await Task.sleep(for: .milliseconds(200))
    }
    return nil
  }
}
