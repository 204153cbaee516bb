import Foundation
import O3Common
import O3Threads
import Logging
import NIOCore
import OMDomain
import OMMetadata
import RaftCore
import Synchronization

/// Catches a follower up from the leader's RocksDB checkpoint when the leader has purged the
/// log entries it lacks: download beside om.db, verify, then swap the database in place.
///
/// Runs while Raft's apply thread waits for it, so nothing applies meanwhile. The steps: flush
/// what was applied; refuse a checkpoint that is not newer and one that does not fit in the free
/// space (both before a byte is written); download into `om.db.candidate`, hard-linking the SSTs
/// this OM holds and checking every file's CRC-32C; stop the double buffer; swap, keeping the
/// old database until the new one has opened; reload the caches; restart the double buffer at
/// the installed term#index. Any failure leaves the old database serving, removes the
/// candidate, is logged on one line with its reason and counted on `/prom`; Raft asks again
/// when the leader notifies again (docs/snapshot-installation.md).
final class OMCheckpointInstaller: Sendable {
  /// A download that crosses another tenth of its size logs a progress line, if it is at least
  /// this big (smaller ones finish before anyone reads the log).
  static let progressLogMinimumBytes: UInt64 = 16 << 20

  private let service: OMServiceConfiguration
  private let token: String?
  private let store: OMMetadataStore
  private let doubleBuffer: OMDoubleBuffer
  private let group: any EventLoopGroup
  private let logger: Logger
  private let onFatalError: @Sendable (Error) -> Void
  let metrics: OMCheckpointInstallMetrics
  private let adjustDownload: @Sendable (inout CheckpointDownloader.Configuration) -> Void
  /// The leader this OM's Raft peer follows now; set once Raft has started.
  private let leaderLookup = Mutex<(@Sendable () async -> PeerID?)?>(nil)

  /// - Parameter adjustDownload: applied to every download's configuration last (fault tests
  ///   plant their probes and hooks here).
  init(
    service: OMServiceConfiguration, token: String?, store: OMMetadataStore, doubleBuffer: OMDoubleBuffer,
    group: any EventLoopGroup, logger: Logger, metrics: OMCheckpointInstallMetrics = OMCheckpointInstallMetrics(),
    adjustDownload: @escaping @Sendable (inout CheckpointDownloader.Configuration) -> Void = { _ in },
    onFatalError: @escaping @Sendable (Error) -> Void
  ) {
    self.service = service
    self.token = token
    self.store = store
    self.doubleBuffer = doubleBuffer
    self.group = group
    self.logger = logger
    self.metrics = metrics
    self.adjustDownload = adjustDownload
    self.onFatalError = onFatalError
  }

  /// Lets a download notice that leadership moved away from the OM it fetches from.
  func setLeaderLookup(_ lookup: @escaping @Sendable () async -> PeerID?) {
    leaderLookup.withLock { $0 = lookup }
  }

  /// How many checkpoints this OM has installed since it started.
  var installCount: Int { Int(metrics.successCount) }

  /// Where the candidate is downloaded: beside om.db, so hard links and the rename stay cheap.
  var candidateDirectory: String { OMDatabaseFiles.candidatePath(for: store.path) }

  /// Downloads `leader`'s checkpoint and installs it; returns its term#index and the Raft
  /// membership it records.
  func install(from leader: PeerID, firstLogIndex: UInt64) async throws -> (position: TermIndex, membership: Membership) {
    let node = service.node(withPeerID: leader)
    let leaderName = node?.nodeID ?? "peer-\(leader.rawValue)"
    let doubleBuffer = self.doubleBuffer
    await onOwnThread("om-await-flush") { doubleBuffer.awaitFlush() }
    let kept = doubleBuffer.flushedTermIndex
    if kept.index + 1 >= firstLogIndex, let membership = try recordedMembership() {
      // A crash after a swap but before Raft recorded the install leaves om.db ahead of the
      // Raft log: the database already holds everything the leader's log lacks.
      logger.info(
        "checkpoint install from \(leaderName) not needed: this OM's database is at \(kept), the leader's log starts at \(firstLogIndex)")
      return (kept, membership)
    }
    let started = ContinuousClock.now
    metrics.began(leaderId: leaderName, nowMilliseconds: UInt64(Date().timeIntervalSince1970 * 1000))
    do {
      guard let node else {
        throw OMException(.internalError, "the leader \(leaderName) is not an OM of this service's configuration")
      }
      logger.info(
        "checkpoint install from \(leaderName) started: fetching from \(OMAdminClient.dialable(node.httpAddress)), this OM is at \(kept), the leader's log starts at \(firstLogIndex)")
      let installed = try await downloadAndSwap(from: node, leader: leader, kept: kept, firstLogIndex: firstLogIndex)
      let seconds = Self.seconds(ContinuousClock.now - started)
      metrics.succeeded(durationSeconds: seconds)
      logger.info(
        "checkpoint install from \(leaderName) finished: installed \(installed.position) in \(String(format: "%.3f", seconds)) s (this OM was at \(kept)), membership \(installed.membership)")
      return installed
    } catch {
      let reason = OMCheckpointInstallMetrics.FailureReason.of(error)
      metrics.failed(reason)
      logger.warning(
        "checkpoint install from \(leaderName) failed [reason=\(reason.rawValue)]: \(Self.message(of: error)). The old database keeps serving at \(doubleBuffer.flushedTermIndex); Raft retries when the leader notifies again")
      throw error
    }
  }

  private func downloadAndSwap(
    from node: OMNodeDetails, leader: PeerID, kept: TermIndex, firstLogIndex: UInt64
  ) async throws -> (position: TermIndex, membership: Membership) {
    let candidate = candidateDirectory
    defer { try? FileManager.default.removeItem(atPath: candidate) }
    let manifest: OMCheckpointManifest
    do {
      manifest = try await download(from: node, leader: leader, keptDatabase: store.path, newerThan: kept)
    } catch let error as OMCheckpointError where error.code == .keptFileUnusable {
      // Compaction may have deleted or replaced an SST between the offer and the link: ask for
      // every file instead.
      logger.info("checkpoint install from \(node.nodeID): \(error.message); fetching all of it")
      manifest = try await download(from: node, leader: leader, keptDatabase: nil, newerThan: kept)
    }
    let position = TermIndex(term: manifest.term, index: manifest.index)
    guard position.index + 1 >= firstLogIndex else {
      throw OMCheckpointError(
        .notNewer, "the checkpoint of \(node.nodeID) ends at \(position), before its log starts at \(firstLogIndex)")
    }
    await onOwnThread("om-stop-flushes") { [doubleBuffer] in doubleBuffer.stop() }
    let flushed = doubleBuffer.flushedTermIndex
    guard position.index > flushed.index else {
      doubleBuffer.restart(flushedUpTo: flushed)
      throw OMCheckpointError(.notNewer, "the checkpoint of \(node.nodeID) at \(position) is not newer than this OM's \(flushed)")
    }
    var membership = Membership.empty
    do {
      let suffix = String(UInt64(Date().timeIntervalSince1970 * 1000))
      try store.replace(with: candidate, oldSuffix: suffix) { installed in
        let recorded = try installed.transactionInfo()
        guard recorded == position else {
          throw OMMetadataError(.corruptValue, "the checkpoint says \(position) but its transactionInfoTable holds \(recorded)")
        }
        guard let bytes = try installed.metaValue(OMRaftMembershipRecord.key) else {
          throw OMMetadataError(.notInitialized, "the checkpoint at \(position) records no Raft membership")
        }
        membership = try OMRaftMembershipRecord.decode(bytes)
      }
    } catch {
      restartAfterFailedSwap(kept: flushed, error: error)
      throw error
    }
    doubleBuffer.restart(flushedUpTo: position)
    return (position, membership)
  }

  private func download(
    from node: OMNodeDetails, leader: PeerID, keptDatabase: String?, newerThan: TermIndex
  ) async throws -> OMCheckpointManifest {
    let address = OMAdminClient.dialable(node.httpAddress)
    var configuration = CheckpointDownloader.Configuration(
      leaderHost: address.host, leaderPort: address.port, token: token, candidateDirectory: candidateDirectory,
      keptDatabase: keptDatabase)
    configuration.newerThan = newerThan
    if let lookup = leaderLookup.withLock({ $0 }) {
      // No known leader (an election under way) is not a change: the sender may win again.
      configuration.leadershipCheck = {
        let current = await lookup()
        return current == nil || current == leader
      }
    }
    let progressLog = ProgressLog(leaderId: node.nodeID, logger: logger)
    let metrics = metrics
    configuration.progress = { progress in
      metrics.advanced(progress)
      progressLog.record(progress)
    }
    adjustDownload(&configuration)
    return try await CheckpointDownloader(configuration: configuration, group: group).download()
  }

  private func recordedMembership() throws -> Membership? {
    guard let bytes = try store.metaValue(OMRaftMembershipRecord.key) else { return nil }
    return try OMRaftMembershipRecord.decode(bytes)
  }

  /// After a failed swap the old database should be back; if it is not, this replica cannot
  /// serve and must stop.
  private func restartAfterFailedSwap(kept: TermIndex, error: Error) {
    do {
      let reopened = try store.transactionInfo()
      guard reopened == kept else {
        throw OMMetadataError(.storage, "the reopened database is at \(reopened), not \(kept)")
      }
      doubleBuffer.restart(flushedUpTo: kept)
    } catch let reopenError {
      onFatalError(
        OMMetadataError(.storage, "installing a checkpoint failed (\(error)) and the old database did not come back: \(reopenError)"))
    }
  }

  private static func message(of error: Error) -> String {
    (error as? OMCheckpointError)?.message ?? "\(error)"
  }

  private static func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
  }
}

/// Logs the manifest's figures once, then a line each time a large download crosses another
/// tenth of its size.
private final class ProgressLog: Sendable {
  private let leaderId: String
  private let logger: Logger
  private let state = Mutex<(expectedBytes: UInt64, loggedTenths: UInt64)>((0, 0))

  init(leaderId: String, logger: Logger) {
    self.leaderId = leaderId
    self.logger = logger
  }

  func record(_ progress: CheckpointDownloader.Progress) {
    switch progress {
    case .started(let termIndex, let fetchBytes, let keptBytes, let fileCount):
      state.withLock { $0 = (fetchBytes, 0) }
      logger.info(
        "checkpoint install from \(leaderId): checkpoint \(termIndex), \(fetchBytes) bytes to fetch, \(keptBytes) bytes kept by hard link (\(fileCount) files)")
    case .received(let bytes):
      let line: String? = state.withLock { state in
        guard state.expectedBytes >= OMCheckpointInstaller.progressLogMinimumBytes else { return nil }
        let tenths = min(10, bytes * 10 / state.expectedBytes)
        guard tenths > state.loggedTenths, tenths < 10 else { return nil }
        state.loggedTenths = tenths
        return "checkpoint install from \(leaderId): \(bytes)/\(state.expectedBytes) bytes received"
      }
      if let line { logger.info("\(line)") }
    }
  }
}
