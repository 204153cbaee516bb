import Foundation
import Logging
import OMMetadata
import OMProto
import Synchronization

/// Whether this OM is prepared for an upgrade (Ozone's `OzoneManagerPrepareState`): after a
/// Prepare is applied, every write except Prepare and CancelPrepare is refused, across restarts,
/// until a CancelPrepare is applied.
///
/// The prepared index lives in om.db (metaTable row `#PREPAREINDEX`), written in the same batch
/// as the Prepare entry and deleted in the same batch as the CancelPrepare: the state a replica
/// restarts with therefore always matches the index it restarts from, so the entries Raft
/// replays after it are refused or applied exactly as they were the first time, and a checkpoint
/// installed from the leader carries the state too. Ozone's `prepareMarker` file (next to
/// `VERSION`, holding the index) mirrors it for operators and scripts; it is put right at start
/// when a crash left it behind.
///
/// The leader also closes a gate when it accepts a Prepare, before the entry applies, so that
/// new writes are refused at once (Ozone's `PREPARE_GATE_ENABLED`).
public final class OMPrepareState: Sendable {
  /// metaTable key of the prepared index (decimal text, as in Ozone's marker file).
  static let metaKey = Array("#PREPAREINDEX".utf8)
  /// Ozone's marker file name, in the OM's `current` directory.
  public static let markerFileName = "prepareMarker"

  private struct State {
    var preparedIndex: UInt64?
    var gateEnabled = false
    var purgeRequest: TermIndex?
  }

  private let state: Mutex<State>
  private let markerPath: String?
  private let logger: Logger

  /// - Parameters:
  ///   - markerPath: where the marker file goes; nil keeps no file (tests of the apply path).
  ///   - preparedIndex: the index the database says this OM is prepared at, if any.
  public init(markerPath: String? = nil, preparedIndex: UInt64? = nil, logger: Logger = Logger(label: "o3.om.prepare")) {
    self.markerPath = markerPath
    self.logger = logger
    state = Mutex(State(preparedIndex: preparedIndex))
  }

  /// Reads the state from `store` (at start, or after a checkpoint replaced the database).
  public func reload(from store: OMMetadataStore) throws {
    let recorded = try store.metaValue(Self.metaKey).map { bytes in
      guard let index = UInt64(String(decoding: bytes, as: UTF8.self)) else {
        throw OMException(
          .metadataError, "metaTable row #PREPAREINDEX holds '\(String(decoding: bytes, as: UTF8.self))', not a log index")
      }
      return index
    }
    state.withLock { $0 = State(preparedIndex: recorded) }
    syncMarker(recorded)
    if let recorded {
      logger.info("the OM is prepared for an upgrade; writes are refused", metadata: ["prepareIndex": "\(recorded)"])
    }
  }

  // MARK: reading

  /// Ozone's status and index: COMPLETED with the index once a Prepare applied, GATE_ENABLED on
  /// a leader that accepted one, else NOT_PREPARED.
  public var status: (status: PrepareStatusResponse.PrepareStatus, index: UInt64) {
    state.withLock { state in
      if let index = state.preparedIndex { return (.prepareCompleted, index) }
      return (state.gateEnabled ? .prepareGateEnabled : .notPrepared, 0)
    }
  }

  /// The index a Prepare applied at, while not cancelled.
  public var preparedIndex: UInt64? { state.withLock { $0.preparedIndex } }

  /// Whether the leader refuses `cmdType` before logging it: every write but Prepare and
  /// CancelPrepare, once prepared or while a Prepare is on its way.
  public func refusesBeforeLogging(_ cmdType: CommandType) -> Bool {
    guard !OMRequestRouter.isPrepareCommand(cmdType) else { return false }
    return state.withLock { $0.preparedIndex != nil || $0.gateEnabled }
  }

  /// Whether apply refuses a logged `cmdType`: only the applied state counts, so every replica
  /// decides the same.
  func refusesWhenApplying(_ cmdType: CommandType) -> Bool {
    guard !OMRequestRouter.isPrepareCommand(cmdType) else { return false }
    return state.withLock { $0.preparedIndex != nil }
  }

  /// The refusal of a write while prepared: a status clients do not fail over on, and what to do.
  public func refusal(_ cmdType: CommandType) -> OMResponse {
    let (_, index) = status
    let at = index > 0 ? " (prepared at log index \(index))" : " (a Prepare is being applied)"
    return .failure(
      cmdType,
      OMException(
        .notSupportedOperationWhenPrepared,
        "Cannot apply write request \(cmdType.ozoneTypeName) when OM is in prepare mode\(at); "
          + "the OMs are prepared for an upgrade: run 'o3 admin om cancelprepare' to accept writes again"))
  }

  // MARK: changes

  /// The leader accepted a Prepare: refuse other writes from now on.
  public func enableGate() {
    state.withLock { $0.gateEnabled = true }
  }

  /// The Prepare this leader accepted was not logged (leadership lost, timeout): open the gate
  /// again unless a Prepare applied meanwhile.
  public func abandonGate() {
    state.withLock { $0.gateEnabled = false }
  }

  /// Apply thread: the Prepare at `position` is in RocksDB with everything before it. Records
  /// the state, writes the marker file and asks Raft to purge its log through `position`.
  func finishPrepare(at position: TermIndex) {
    state.withLock { state in
      state.preparedIndex = position.index
      state.gateEnabled = false
      state.purgeRequest = position
    }
    syncMarker(position.index)
    logger.info("prepared for an upgrade: writes are refused until CancelPrepare", metadata: ["prepareIndex": "\(position)"])
  }

  /// Apply thread: a CancelPrepare applied; writes are accepted again.
  func cancel(at position: TermIndex) {
    let wasPrepared = state.withLock { state in
      defer { state = State() }
      return state.preparedIndex != nil || state.gateEnabled
    }
    syncMarker(nil)
    if wasPrepared { logger.info("prepare cancelled: writes are accepted again", metadata: ["cancelIndex": "\(position)"]) }
  }

  /// The position a Prepare asked the Raft log to be purged through, once.
  public func takePurgeRequest() -> TermIndex? {
    state.withLock { state in
      defer { state.purgeRequest = nil }
      return state.purgeRequest
    }
  }

  /// Makes the marker file say `index` (nil: no file). The database is the record, so a marker
  /// that cannot be written is logged and put right at the next start, not fatal.
  private func syncMarker(_ index: UInt64?) {
    guard let markerPath else { return }
    let files = FileManager.default
    do {
      if let index {
        try files.createDirectory(
          atPath: (markerPath as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data("\(index)".utf8).write(to: URL(fileURLWithPath: markerPath), options: .atomic)
      } else if files.fileExists(atPath: markerPath) {
        try files.removeItem(atPath: markerPath)
      }
    } catch {
      logger.error(
        "cannot update the prepare marker file; om.db holds the prepare state and the file is rewritten at the next start",
        metadata: ["file": "\(markerPath)", "error": "\(error)"])
    }
  }
}
