import Foundation
import Raft
import RaftCore
import O3TestSupport
import Testing

/// Automatic snapshots and the purge behind them (`RaftLogRetention`): the log on disk stays
/// bounded by the purge gap plus the snapshot threshold plus about a segment, whatever the
/// followers do.
@Suite(.watchdog, .ownThreads) struct LogRetentionTests {
  @Test("a snapshot is due every threshold entries, and the purge keeps the gap behind it")
  func policy() {
    let retention = RaftLogRetention(snapshotAutoTriggerThreshold: 100, purgeGap: 30)
    #expect(!retention.isSnapshotDue(appliedIndex: 99, lastSnapshotIndex: 0))
    #expect(retention.isSnapshotDue(appliedIndex: 100, lastSnapshotIndex: 0))
    #expect(retention.isSnapshotDue(appliedIndex: 250, lastSnapshotIndex: 100))
    #expect(!retention.isSnapshotDue(appliedIndex: 50, lastSnapshotIndex: 100), "an installed checkpoint ahead of apply")
    #expect(retention.purgeIndex(snapshotIndex: 100, firstLogIndex: 1) == 70)
    #expect(retention.purgeIndex(snapshotIndex: 30, firstLogIndex: 1) == nil, "the gap reaches before the log")
    #expect(retention.purgeIndex(snapshotIndex: 100, firstLogIndex: 71) == nil, "already purged that far")
    #expect(RaftServerConfiguration(raft: RaftConfiguration(id: PeerID(1))).retention
      == RaftLogRetention(snapshotAutoTriggerThreshold: 400_000, purgeGap: 1_000_000), "Ozone's defaults")
  }

  /// The apply loop's decisions replayed over a real log, one batch at a time: deterministic,
  /// no threads. The bound is the one `RaftLogRetention` documents.
  @Test("on a real log with small segments, entries and bytes on disk stay within gap + threshold + a segment")
  func boundedOnDisk() throws {
    try withLogTestDirectory { directory in
      let segmentSizeBytes = 2_048
      let log = try DurableRaftLog.open(directory: directory, segmentSizeBytes: segmentSizeBytes, logger: silentLogTestLogger)
      defer { log.close() }
      let retention = RaftLogRetention(snapshotAutoTriggerThreshold: 120, purgeGap: 80)
      let batch = 7
      try log.append(logTestEntries(from: 1, count: 1, dataBytes: 40))
      let oneEntryBytes = log.diskUsage.bytes
      try log.append(logTestEntries(from: 2, count: 1, dataBytes: 40))
      let recordBytes = log.diskUsage.bytes - oneEntryBytes
      let entriesPerSegment = UInt64(segmentSizeBytes / recordBytes) + 1
      let maxEntries = retention.purgeGap + retention.snapshotAutoTriggerThreshold + UInt64(batch) + entriesPerSegment
      var lastSnapshot: UInt64 = 0
      var snapshots = 0
      var largest = RaftLogDiskUsage(bytes: 0, segments: 0)
      while log.lastIndex < 6_000 {
        try log.append(logTestEntries(from: log.lastIndex + 1, count: batch, dataBytes: 40))
        try log.sync()
        let applied = log.lastIndex
        if retention.isSnapshotDue(appliedIndex: applied, lastSnapshotIndex: lastSnapshot) {
          lastSnapshot = applied
          snapshots += 1
          if let through = retention.purgeIndex(snapshotIndex: applied, firstLogIndex: log.firstIndex) {
            try log.purge(through: through)
          }
        }
        let held = log.lastIndex - log.firstIndex + 1
        #expect(held <= maxEntries, "\(held) entries held at \(applied)")
        let usage = log.diskUsage
        if usage.bytes > largest.bytes { largest = usage }
      }
      #expect(snapshots >= 6_000 / 127, "a snapshot at least every threshold + batch entries")
      #expect(log.firstIndex > 6_000 - maxEntries, "the log was purged up to the gap behind the last snapshot")
      #expect(largest.bytes <= Int(maxEntries) * recordBytes + largest.segments * 64, "disk use bounded: \(largest)")
      #expect(largest.bytes < 6_000 * recordBytes / 10, "a tenth of what the unpurged log would hold")
    }
  }

  @Test("with a follower down, the leader snapshots every threshold and its log on disk stays bounded")
  func boundedWithAFollowerDown() async throws {
    let threshold: UInt64 = 40
    let gap: UInt64 = 30
    let cluster = try await TestCluster(size: 3, segmentSizeBytes: 1_024, purgeGap: gap, snapshotThreshold: threshold)
    let leader = try await cluster.waitForLeader()
    let follower = cluster.servers.keys.first { $0 != leader }!
    await cluster.stop(follower)
    let leaderLog = try #require(cluster.logs[leader])
    var largest = RaftLogDiskUsage(bytes: 0, segments: 0)
    var mostEntries: UInt64 = 0
    for value in 0..<600 {
      _ = try await cluster.put("k\(value % 13)", "value-\(value)")
      if let server = cluster.servers[leader], value >= 300 {
        let usage = server.logDiskUsage
        if usage.bytes > largest.bytes { largest = usage }
        mostEntries = max(mostEntries, leaderLog.lastIndex - leaderLog.firstIndex + 1)
      }
    }
    let snapshots = cluster.machines[leader]!.snapshots
    #expect(snapshots.count >= 600 / Int(threshold) - 1, "\(snapshots.count) snapshots")
    #expect(
      zip(snapshots, snapshots.dropFirst()).allSatisfy { $1.index - $0.index >= threshold },
      "snapshots are a threshold apart")
    // A 1 KiB segment holds about twenty of these entries; batches add a few more.
    #expect(mostEntries <= gap + threshold + 40, "\(mostEntries) entries held with a follower down")
    #expect(largest.bytes <= 4 * 1_024 + Int(gap + threshold) * 64, "disk use bounded: \(largest)")
    #expect(cluster.servers[leader]!.lastSnapshot.index >= 600 - threshold, "the last snapshot is recent")

    try await cluster.start(follower)
    try await cluster.waitUntil("the follower catches up from a checkpoint") {
      cluster.machines[follower]!.values == cluster.machines[leader]!.values
    }
    #expect(cluster.machines[follower]!.installedCheckpoints >= 1, "the leader no longer had the entries it missed")
    #expect(cluster.fatalErrors.all.isEmpty)
    await cluster.shutdown()
  }

  @Test("a purge the state machine requests removes every closed segment through it, on every peer")
  func requestedPurge() async throws {
    let cluster = try await TestCluster(size: 3, segmentSizeBytes: 512)
    for value in 0..<120 { _ = try await cluster.put("k", "\(value)") }
    let leader = try await cluster.waitForLeader()
    #expect(cluster.servers[leader]!.logDiskUsage.segments > 3, "small segments: the log spans many")
    // The compact entry's own index, from its answer. The test read it as the applied index of
    // the peer that led before the proposal, and once (a fresh-clone run) every peer's log ended
    // past that index: leadership had moved, and a new leader's first entry is part of the log.
    let answer = String(decoding: try await cluster.propose("compact"), as: UTF8.self)
    let compactIndex = try #require(answer.hasPrefix("ok ") ? UInt64(answer.dropFirst(3)) : nil, "answer: \(answer)")
    for (id, server) in cluster.servers {
      try await cluster.waitUntil("peer \(id) purged through the requested snapshot") {
        server.lastSnapshot.index >= compactIndex
      }
      let log = try #require(cluster.logs[id])
      #expect(server.logDiskUsage.segments == 1, "every closed segment went; the open one stays")
      // A leader change after the compact entry may append its own first entry behind it.
      #expect(
        log.firstIndex <= compactIndex && log.lastIndex >= compactIndex, "\(log.firstIndex)…\(log.lastIndex), compact at \(compactIndex)")
    }
    #expect(cluster.machines[leader]!.snapshots.isEmpty, "no automatic snapshot: the threshold is Ozone's")
    await cluster.shutdown()
  }
}
