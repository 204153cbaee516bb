import Foundation
import Logging
import NIOCore
import OMMetadata
import RaftCore
import Synchronization

/// Catches a follower up from the leader's RocksDB checkpoint when the leader has purged the
/// log entries it lacks: download beside om.db, verify, then swap the database in place.
///
/// Runs while Raft's apply thread waits for it, so nothing applies meanwhile; the double
/// buffer is drained and stopped for the swap and restarted at the installed term#index. Any
/// failure leaves the old database serving (Raft asks again when the leader notifies again).
final class OMCheckpointInstaller: Sendable {
  private let service: OMServiceConfiguration
  private let token: String?
  private let store: OMMetadataStore
  private let doubleBuffer: OMDoubleBuffer
  private let group: any EventLoopGroup
  private let logger: Logger
  private let onFatalError: @Sendable (Error) -> Void
  private let installs = Atomic<Int>(0)

  init(
    service: OMServiceConfiguration, token: String?, store: OMMetadataStore, doubleBuffer: OMDoubleBuffer,
    group: any EventLoopGroup, logger: Logger, onFatalError: @escaping @Sendable (Error) -> Void
  ) {
    self.service = service
    self.token = token
    self.store = store
    self.doubleBuffer = doubleBuffer
    self.group = group
    self.logger = logger
    self.onFatalError = onFatalError
  }

  /// How many checkpoints this OM has installed since it started.
  var installCount: Int { installs.load(ordering: .relaxed) }

  /// Where the candidate is downloaded: beside om.db, so hard links and the rename stay cheap.
  var candidateDirectory: String { "\((store.path as NSString).deletingLastPathComponent)/om.db.candidate" }

  /// Downloads `leader`'s checkpoint and installs it; returns its term#index and the Raft
  /// membership it records.
  func install(from leader: PeerID, firstLogIndex: UInt64) async throws -> (position: OMMetadata.TermIndex, membership: Membership) {
    guard let node = service.node(withPeerID: leader) else {
      throw OMException(.internalError, "the leader \(leader) is not an OM of this service's configuration")
    }
    let candidate = candidateDirectory
    let manifest: OMCheckpointManifest
    do {
      manifest = try await download(from: node, keptDatabase: store.path)
    } catch let error as OMCheckpointError where error.code == .verificationFailed {
      // Each replica numbers its SST files on its own: a held file may share a name with a
      // different file of the leader. Ask again for every file.
      logger.info("the checkpoint of \(node.nodeID) did not verify against the SSTs this OM holds (\(error)); fetching all of it")
      manifest = try await download(from: node, keptDatabase: nil)
    }
    defer { try? FileManager.default.removeItem(atPath: candidate) }
    let position = OMMetadata.TermIndex(term: manifest.term, index: manifest.index)
    guard position.index + 1 >= firstLogIndex else {
      throw OMException(
        .internalError, "the checkpoint of \(node.nodeID) ends at \(position), before its log starts at \(firstLogIndex)")
    }
    doubleBuffer.stop()
    let kept = doubleBuffer.flushedTermIndex
    guard position.index > kept.index else {
      doubleBuffer.restart(flushedUpTo: kept)
      throw OMException(.internalError, "the checkpoint of \(node.nodeID) at \(position) is not newer than this OM's \(kept)")
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
      restartAfterFailedSwap(kept: kept, error: error)
      throw error
    }
    doubleBuffer.restart(flushedUpTo: position)
    installs.add(1, ordering: .relaxed)
    logger.info("installed the checkpoint of \(node.nodeID) at \(position) (this OM had \(kept)), membership \(membership)")
    return (position, membership)
  }

  private func download(from node: OMNodeDetails, keptDatabase: String?) async throws -> OMCheckpointManifest {
    let address = OMAdminClient.dialable(node.httpAddress)
    let downloader = CheckpointDownloader(
      configuration: CheckpointDownloader.Configuration(
        leaderHost: address.host, leaderPort: address.port, token: token, candidateDirectory: candidateDirectory,
        keptDatabase: keptDatabase),
      group: group)
    return try await downloader.download()
  }

  /// After a failed swap the old database should be back; if it is not, this replica cannot
  /// serve and must stop.
  private func restartAfterFailedSwap(kept: OMMetadata.TermIndex, error: Error) {
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
}
